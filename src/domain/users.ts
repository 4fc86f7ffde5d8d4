import { enqueueWebhookEvent } from './webhook-events.js'
import { randomUUID } from 'node:crypto'
import { getAccount } from './accounts.js'
import { assertMayGrant, assertMayTouch, ADMIN_SCOPE, isManagementScope, managementPowerOfUser, type Authority } from './authority.js'
import { NotFound } from './errors.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import type { Clock, Store, UserPatch, UserStore } from './ports.js'
import type { Permission, User, UserId } from './types.js'
import { requireEmail, requirePermissions, requireRole, requireScopes, requireUuid } from './validation.js'

export interface NewUserInput {
  readonly accountId: string
  readonly email: string
  readonly role?: string
  readonly permissions?: readonly string[]
  readonly scopes?: readonly string[]
  readonly actor?: string
  /** The management caller's; see authority.ts. */
  readonly authority?: Authority
}

export async function createUser(deps: { store: Store; clock: Clock }, input: NewUserInput): Promise<User> {
  const email = requireEmail(input.email)
  const role = requireRole(input.role ?? 'member')
  const permissions = requirePermissions(input.permissions ?? ['ui', 'api'])
  const scopes = requireScopes(input.scopes ?? [])
  assertMayGrant(input.authority, role === 'admin' ? [ADMIN_SCOPE] : scopes.filter(isManagementScope), 'creating an admin or granting keymint: scopes')
  return deps.store.transaction(async (tx) => {
    const account = await getAccount(tx, input.accountId)
    const now = deps.clock.now()
    const user = await tx.users.insert({
      id: randomUUID() as UserId,
      accountId: account.id,
      email,
      role,
      permissions,
      scopes,
      disabled: false,
      createdAt: now,
      updatedAt: now,
      tokensCutOffAt: null,
    })
    await tx.audit.insert([auditEvent({
      accountId: account.id, actor: input.actor ?? DEFAULT_ACTOR, action: 'user.created', target: user.id,
      details: { role, permissions, scopes }, createdAt: now,
    })])
    return user
  })
}

export async function getUser(deps: { users: UserStore }, id: string): Promise<User> {
  const user = await deps.users.findById(requireUuid<UserId>(id, 'user id'))
  if (!user) throw new NotFound('KEYMINT_USER_NOT_FOUND', `user ${id} not found`)
  return user
}

/** The users of an account, by email; an unknown account is an error, not an empty list. */
export async function listUsers(deps: { store: Pick<Store, 'accounts' | 'users'> }, input: { accountId: string }): Promise<User[]> {
  const account = await getAccount(deps.store, input.accountId)
  return deps.store.users.listByAccount(account.id)
}

export interface UserUpdateInput {
  readonly userId: string
  readonly permissions?: readonly string[]
  readonly scopes?: readonly string[]
  readonly disabled?: boolean
  readonly actor?: string
  readonly authority?: Authority
}

/** Changes a user's permissions, scopes or state; the audit event keeps what changed, before and after. */
export async function updateUser(deps: { store: Store; clock: Clock }, input: UserUpdateInput): Promise<User> {
  const id = requireUuid<UserId>(input.userId, 'user id')
  const now = deps.clock.now()
  const patch: { -readonly [K in keyof UserPatch]: UserPatch[K] } = { updatedAt: now }
  if (input.permissions !== undefined) patch.permissions = requirePermissions(input.permissions)
  if (input.scopes !== undefined) patch.scopes = requireScopes(input.scopes)
  if (input.disabled !== undefined) patch.disabled = input.disabled
  return deps.store.transaction(async (tx) => {
    const before = await tx.users.findById(id)
    if (!before) throw new NotFound('KEYMINT_USER_NOT_FOUND', `user ${input.userId} not found`)
    assertMayTouch(input.authority, managementPowerOfUser(before), 'changing a user who holds more than the caller')
    if (patch.scopes) assertMayGrant(input.authority, patch.scopes.filter(isManagementScope), 'granting keymint: scopes')
    const after = { disabled: patch.disabled ?? before.disabled, permissions: patch.permissions ?? before.permissions }
    // DESIGN §1: losing the right to act ends every token issued so far, for good.
    if (userMayObtainTokens(before) && !userMayObtainTokens(after)) patch.tokensCutOffAt = now
    const user = await tx.users.update(id, patch)
    if (!user) throw new NotFound('KEYMINT_USER_NOT_FOUND', `user ${input.userId} not found`)
    const changed: Record<string, { before: unknown; after: unknown }> = {}
    for (const field of ['permissions', 'scopes', 'disabled'] as const) {
      if (JSON.stringify(before[field]) !== JSON.stringify(user[field])) changed[field] = { before: before[field], after: user[field] }
    }
    if (Object.keys(changed).length > 0) {
      await tx.audit.insert([auditEvent({
        accountId: user.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'user.updated', target: user.id,
        details: changed, createdAt: patch.updatedAt,
      })])
    }
    if (!before.disabled && user.disabled) {
      await enqueueWebhookEvent(tx, { accountId: user.accountId, type: 'user.disabled', data: { user: user.id }, at: now })
    }
    return user
  })
}

/** DESIGN §1: a user-level client acts only while its user is active with both `ui` and `api`. */
export function userMayObtainTokens(user: { disabled: boolean; permissions: readonly Permission[] }): boolean {
  return !user.disabled && user.permissions.includes('ui') && user.permissions.includes('api')
}

/** Whether a token issued at `iat` (seconds) predates the last cut-off of its user (or client), and so stays refused. */
export function issuedBeforeCutOff(user: { tokensCutOffAt: Date | null }, iat: number): boolean {
  // Seconds against milliseconds: a token of the cut-off's own second counts as before it.
  return user.tokensCutOffAt !== null && iat * 1000 <= user.tokensCutOffAt.getTime()
}
