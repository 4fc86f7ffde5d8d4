import { randomUUID } from 'node:crypto'
import { getAccount } from './accounts.js'
import { NotFound } from './errors.js'
import type { AccountStore, Clock, UserPatch, UserStore } from './ports.js'
import type { Permission, User, UserId } from './types.js'
import { requireEmail, requirePermissions, requireRole, requireScopes, requireUuid } from './validation.js'

export interface NewUserInput {
  readonly accountId: string
  readonly email: string
  readonly role?: string
  readonly permissions?: readonly string[]
  readonly scopes?: readonly string[]
}

export async function createUser(
  deps: { accounts: AccountStore; users: UserStore; clock: Clock },
  input: NewUserInput,
): Promise<User> {
  const email = requireEmail(input.email)
  const role = requireRole(input.role ?? 'member')
  const permissions = requirePermissions(input.permissions ?? ['ui', 'api'])
  const scopes = requireScopes(input.scopes ?? [])
  const account = await getAccount(deps, input.accountId)
  const now = deps.clock.now()
  return deps.users.insert({
    id: randomUUID() as UserId,
    accountId: account.id,
    email,
    role,
    permissions,
    scopes,
    disabled: false,
    createdAt: now,
    updatedAt: now,
  })
}

export async function getUser(deps: { users: UserStore }, id: string): Promise<User> {
  const user = await deps.users.findById(requireUuid<UserId>(id, 'user id'))
  if (!user) throw new NotFound('KEYMINT_USER_NOT_FOUND', `user ${id} not found`)
  return user
}

export interface UserUpdateInput {
  readonly userId: string
  readonly permissions?: readonly string[]
  readonly scopes?: readonly string[]
  readonly disabled?: boolean
}

export async function updateUser(deps: { users: UserStore; clock: Clock }, input: UserUpdateInput): Promise<User> {
  const id = requireUuid<UserId>(input.userId, 'user id')
  const patch: { -readonly [K in keyof UserPatch]: UserPatch[K] } = { updatedAt: deps.clock.now() }
  if (input.permissions !== undefined) patch.permissions = requirePermissions(input.permissions)
  if (input.scopes !== undefined) patch.scopes = requireScopes(input.scopes)
  if (input.disabled !== undefined) patch.disabled = input.disabled
  const user = await deps.users.update(id, patch)
  if (!user) throw new NotFound('KEYMINT_USER_NOT_FOUND', `user ${input.userId} not found`)
  return user
}

/** DESIGN §1: a user-level client acts only while its user is active with both `ui` and `api`. */
export function userMayObtainTokens(user: { disabled: boolean; permissions: readonly Permission[] }): boolean {
  return !user.disabled && user.permissions.includes('ui') && user.permissions.includes('api')
}
