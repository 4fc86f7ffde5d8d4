import { getAccount } from './accounts.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { assertAdmin, type Authority } from './authority.js'
import { InvalidInput, NotFound } from './errors.js'
import { requireKeyExpiresIn } from './key-expiry.js'
import type { AccountPatch, Clock, Store } from './ports.js'
import type { Account } from './types.js'

export interface AccountSettingsInput {
  readonly accountId: string
  readonly requireAdminSecondFactor?: boolean
  /** Seconds; null: new key pairs do not expire unless asked to. */
  readonly defaultKeyExpiresIn?: number | null
  /** Seconds; null: no limit. */
  readonly maxKeyExpiresIn?: number | null
  readonly actor?: string
  readonly authority?: Authority
}

const WIRE_NAMES: Record<keyof AccountPatch, string> = {
  requireAdminSecondFactor: 'require_admin_second_factor',
  defaultKeyExpiresIn: 'default_key_expires_in_seconds',
  maxKeyExpiresIn: 'max_key_expires_in_seconds',
}

/** Changes the account's settings given, admins only; each change is audited with its before and after. */
export async function updateAccountSettings(deps: { store: Store; clock: Clock }, input: AccountSettingsInput): Promise<Account> {
  assertAdmin(input.authority, "changing the account's settings")
  const patch: { -readonly [K in keyof AccountPatch]: AccountPatch[K] } = {}
  if (input.requireAdminSecondFactor !== undefined) patch.requireAdminSecondFactor = input.requireAdminSecondFactor
  if (input.defaultKeyExpiresIn !== undefined) {
    patch.defaultKeyExpiresIn = input.defaultKeyExpiresIn === null ? null : requireKeyExpiresIn(input.defaultKeyExpiresIn, 'default key expiry')
  }
  if (input.maxKeyExpiresIn !== undefined) {
    patch.maxKeyExpiresIn = input.maxKeyExpiresIn === null ? null : requireKeyExpiresIn(input.maxKeyExpiresIn, 'maximum key expiry')
  }
  if (Object.keys(patch).length === 0) throw new InvalidInput('KEYMINT_INVALID_INPUT', 'nothing to change: give at least one setting')
  return deps.store.transaction(async (tx) => {
    const before = await getAccount(tx, input.accountId)
    const defaultSeconds = patch.defaultKeyExpiresIn === undefined ? before.defaultKeyExpiresIn : patch.defaultKeyExpiresIn
    const maxSeconds = patch.maxKeyExpiresIn === undefined ? before.maxKeyExpiresIn : patch.maxKeyExpiresIn
    if (defaultSeconds !== null && maxSeconds !== null && defaultSeconds > maxSeconds) {
      throw new InvalidInput('KEYMINT_KEY_EXPIRY_OVER_MAXIMUM', `the default key expiry (${defaultSeconds} s) would be longer than the maximum (${maxSeconds} s)`)
    }
    const after = await tx.accounts.update(before.id, patch)
    if (!after) throw new NotFound('KEYMINT_ACCOUNT_NOT_FOUND', `account ${input.accountId} not found`)
    const changes = Object.fromEntries((Object.keys(patch) as (keyof AccountPatch)[])
      .filter((k) => before[k] !== after[k])
      .map((k) => [WIRE_NAMES[k], { before: before[k], after: after[k] }]))
    if (Object.keys(changes).length > 0) {
      await tx.audit.insert([auditEvent({
        accountId: after.id, actor: input.actor ?? DEFAULT_ACTOR, action: 'account.updated', target: after.id, details: changes, createdAt: deps.clock.now(),
      })])
    }
    return after
  })
}
