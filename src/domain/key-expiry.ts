import { InvalidInput } from './errors.js'
import type { Account } from './types.js'

// How long a key pair may live (issue 15, item 1): asked for when it is issued, else the account's
// default; never longer than the account's maximum.
const DAY = 86400
export const MIN_KEY_EXPIRES_IN = 3600
export const MAX_KEY_EXPIRES_IN = 3650 * DAY

/** A key pair lifetime in seconds, whole and within bounds; `what` names the field in the error. */
export function requireKeyExpiresIn(seconds: number, what: string): number {
  if (!Number.isInteger(seconds) || seconds < MIN_KEY_EXPIRES_IN || seconds > MAX_KEY_EXPIRES_IN) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `${what} must be between ${MIN_KEY_EXPIRES_IN} s (1h) and ${MAX_KEY_EXPIRES_IN} s (3650d)`)
  }
  return seconds
}

/**
 * When a pair the account issues at `now` expires: after `requested` seconds, else the account's
 * default, else its maximum (a maximum holds for pairs nobody asked a lifetime for too); null: never.
 */
export function keyLifetimeEnd(account: Pick<Account, 'defaultKeyExpiresIn' | 'maxKeyExpiresIn'>, requested: number | undefined, now: Date): Date | null {
  const max = account.maxKeyExpiresIn
  if (requested !== undefined && max !== null && requested > max) {
    throw new InvalidInput('KEYMINT_KEY_EXPIRY_OVER_MAXIMUM', `key expiry ${requested} s is longer than this account's maximum of ${max} s`)
  }
  const seconds = requested ?? (account.defaultKeyExpiresIn === null ? max : Math.min(account.defaultKeyExpiresIn, max ?? Infinity))
  return seconds === null ? null : new Date(now.getTime() + seconds * 1000)
}
