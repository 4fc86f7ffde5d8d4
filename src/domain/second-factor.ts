import { generateRecoveryCode, hashRecoveryCode, normalizeRecoveryCode, RECOVERY_CODE_COUNT } from '../crypto/recovery-codes.js'
import { generateTotpSecret, otpauthUri, verifyTotp } from '../crypto/totp.js'
import { getAccount } from './accounts.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { assertAdmin, type Authority } from './authority.js'
import { Forbidden, InvalidInput, InvalidState, NotFound, Unauthenticated } from './errors.js'
import type { Clock, Store, TotpRecord } from './ports.js'
import type { Sealer } from './server-keys.js'
import type { Account, User } from './types.js'
import { getUser } from './users.js'

// A second factor for signing in to the dashboard: TOTP (RFC 6238) from an authenticator app,
// with ten one-time recovery codes for a lost device. No secret, code or recovery code is ever
// audited or put in an error: the audit log says that something happened, never with what.

export interface SecondFactorDeps {
  readonly store: Store
  readonly clock: Clock
  readonly sealer: Sealer
}

/** The user has a second factor and gave none: ask for it (only ever said after a right password). */
export class SecondFactorRequired extends Unauthenticated {
  constructor() {
    super('KEYMINT_OTP_REQUIRED', 'a code from the authenticator app, or a recovery code, is required')
  }
}

/** Why a code was refused: for logs only; the caller always gets the same answer. */
export type OtpRefusal = 'wrong_code' | 'replayed_code' | 'unknown_recovery_code' | 'malformed'

export class OtpRefused extends Unauthenticated {
  constructor(readonly reason: OtpRefusal) {
    super('KEYMINT_OTP_INVALID', 'the code is wrong, or was used before')
  }
}

const MAX_OTP_LENGTH = 64
/** Associated data binds a sealed secret to its user: copied to another user's row, it does not open. */
export const sealedFor = (user: Pick<User, 'id'>): string => `totp:${user.id}`
const actorOf = (user: Pick<User, 'id'>): string => `user:${user.id}`
const enabled = (totp: TotpRecord | undefined): totp is TotpRecord & { enabledAt: Date } => totp?.enabledAt != null

/** Ten new recovery codes for the user, replacing any before them; returned in clear this once. */
async function issueRecoveryCodes(store: Store, user: User, at: Date): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode)
  await store.secondFactors.replaceRecoveryCodes(user.id, codes.map(hashRecoveryCode), at)
  return codes
}

/**
 * Starts TOTP enrollment: a new secret, stored sealed and pending. Nothing changes at sign-in
 * until a code from the app confirms it. Beginning again replaces a pending secret; an enabled
 * one must be turned off first.
 */
export async function beginTotpEnrollment(
  deps: SecondFactorDeps,
  input: { user: User; issuer?: string },
): Promise<{ secret: string; otpauthUri: string }> {
  const secret = generateTotpSecret()
  const stored = await deps.store.secondFactors.setPendingTotp(input.user.id, deps.sealer.seal(secret, sealedFor(input.user)))
  if (!stored) throw new InvalidState('KEYMINT_SECOND_FACTOR_ENABLED', 'a second factor is on already; turn it off before enrolling again')
  return { secret, otpauthUri: otpauthUri({ issuer: input.issuer ?? 'keymint', account: input.user.email, secret }) }
}

/** Turns TOTP on with a first code from the app; returns the recovery codes, shown this once. */
export async function confirmTotpEnrollment(deps: SecondFactorDeps, input: { user: User; code: string }): Promise<{ recoveryCodes: string[] }> {
  const { user } = input
  return deps.store.transaction(async (tx) => {
    const totp = await tx.secondFactors.findTotp(user.id)
    if (!totp) throw new InvalidState('KEYMINT_NO_PENDING_ENROLLMENT', 'no enrollment is waiting for a code; begin one first')
    if (enabled(totp)) throw new InvalidState('KEYMINT_SECOND_FACTOR_ENABLED', 'a second factor is on already')
    const now = deps.clock.now()
    const step = input.code.length > MAX_OTP_LENGTH ? undefined : verifyTotp(deps.sealer.unseal(totp.secretSealed, sealedFor(user)), input.code, now)
    // The user is signed in: a mistyped code is a bad input, not a failed authentication.
    if (step === undefined) throw new InvalidInput('KEYMINT_ENROLLMENT_OTP_INVALID', 'the code does not match; check the time on the device and try the next one')
    if (!await tx.secondFactors.enableTotp(user.id, step, now)) throw new InvalidState('KEYMINT_SECOND_FACTOR_ENABLED', 'a second factor is on already')
    const recoveryCodes = await issueRecoveryCodes(tx, user, now)
    await tx.audit.insert([auditEvent({
      accountId: user.accountId, actor: actorOf(user), action: 'user.second_factor_enabled', target: user.id,
      details: { method: 'totp', recovery_codes: recoveryCodes.length }, createdAt: now,
    })])
    return { recoveryCodes }
  })
}

/**
 * Checks a second factor: a TOTP code of a step after the last one accepted (a code is never
 * taken twice), or an unused recovery code, which is used up. Refusals are `OtpRefused`, one
 * answer for every reason; no code at all is `SecondFactorRequired`.
 */
export async function checkSecondFactor(
  deps: SecondFactorDeps,
  input: { user: User; otp: string | undefined },
): Promise<{ method: 'totp' | 'recovery_code' }> {
  const { user } = input
  const otp = input.otp?.trim() ?? ''
  if (otp === '') throw new SecondFactorRequired()
  if (otp.length > MAX_OTP_LENGTH) throw new OtpRefused('malformed')
  return deps.store.transaction(async (tx) => {
    const totp = await tx.secondFactors.findTotp(user.id)
    if (!enabled(totp)) throw new InvalidState('KEYMINT_SECOND_FACTOR_NOT_ENABLED', 'this user has no second factor')
    const now = deps.clock.now()
    const recoveryCode = normalizeRecoveryCode(otp)
    if (recoveryCode !== undefined) {
      if (!await tx.secondFactors.useRecoveryCode(user.id, hashRecoveryCode(recoveryCode), now)) throw new OtpRefused('unknown_recovery_code')
      await tx.audit.insert([auditEvent({
        accountId: user.accountId, actor: actorOf(user), action: 'user.recovery_code_used', target: user.id,
        details: { recovery_codes_left: await tx.secondFactors.countRecoveryCodesLeft(user.id) }, createdAt: now,
      })])
      return { method: 'recovery_code' }
    }
    const step = verifyTotp(deps.sealer.unseal(totp.secretSealed, sealedFor(user)), otp, now)
    if (step === undefined) throw new OtpRefused('wrong_code')
    // RFC 6238 §5.2: a code is accepted once. The conditional write also settles a race between instances.
    if ((totp.lastStep !== null && step <= totp.lastStep) || !await tx.secondFactors.acceptTotpStep(user.id, step)) {
      throw new OtpRefused('replayed_code')
    }
    return { method: 'totp' }
  })
}

/** Whether the user has a second factor on (a pending enrollment is not one yet). */
export async function hasSecondFactor(store: Store, user: Pick<User, 'id'>): Promise<boolean> {
  return enabled(await store.secondFactors.findTotp(user.id))
}

/** Whether the account requires a second factor of this user (an admin) and the user has none yet. */
export const secondFactorEnrollmentRequired = (account: Account, user: User, hasSecondFactor: boolean): boolean =>
  account.requireAdminSecondFactor && user.role === 'admin' && !hasSecondFactor

/** What the dashboard shows: whether the second factor is on, how many recovery codes are left, whether enrolling is due. */
export async function secondFactorState(
  deps: { store: Store },
  input: { user: User },
): Promise<{ enabled: boolean; enabledAt: Date | null; recoveryCodesLeft: number; enrollmentRequired: boolean }> {
  const totp = await deps.store.secondFactors.findTotp(input.user.id)
  const account = await getAccount(deps.store, input.user.accountId)
  const on = enabled(totp)
  return {
    enabled: on,
    enabledAt: on ? totp.enabledAt : null,
    recoveryCodesLeft: on ? await deps.store.secondFactors.countRecoveryCodesLeft(input.user.id) : 0,
    enrollmentRequired: secondFactorEnrollmentRequired(account, input.user, on),
  }
}

/** New recovery codes in place of the old ones, for a code (TOTP or recovery) the user gives. */
export async function regenerateRecoveryCodes(deps: SecondFactorDeps, input: { user: User; otp: string }): Promise<{ recoveryCodes: string[] }> {
  const { user } = input
  return deps.store.transaction(async (tx) => {
    await checkSecondFactor({ ...deps, store: tx }, input)
    const now = deps.clock.now()
    const recoveryCodes = await issueRecoveryCodes(tx, user, now)
    await tx.audit.insert([auditEvent({
      accountId: user.accountId, actor: actorOf(user), action: 'user.recovery_codes_regenerated', target: user.id,
      details: { recovery_codes: recoveryCodes.length }, createdAt: now,
    })])
    return { recoveryCodes }
  })
}

/**
 * The user turns their own second factor off, with a code (TOTP or recovery) as proof: a
 * session alone is not enough. An admin of an account that requires it cannot.
 */
export async function disableTotp(deps: SecondFactorDeps, input: { user: User; otp: string }): Promise<void> {
  const { user } = input
  await deps.store.transaction(async (tx) => {
    const account = await getAccount(tx, user.accountId)
    if (account.requireAdminSecondFactor && user.role === 'admin') {
      throw new Forbidden('KEYMINT_SECOND_FACTOR_MANDATORY', 'this account requires a second factor of every admin')
    }
    await checkSecondFactor({ ...deps, store: tx }, input)
    const now = deps.clock.now()
    await tx.secondFactors.clear(user.id, now)
    await tx.audit.insert([auditEvent({
      accountId: user.accountId, actor: actorOf(user), action: 'user.second_factor_disabled', target: user.id, createdAt: now,
    })])
  })
}

/**
 * Turns off another user's second factor (a lost device and lost recovery codes): admins and
 * the command line only. The user signs in with the password alone, or is made to enroll again.
 */
export async function resetSecondFactor(
  deps: { store: Store; clock: Clock },
  input: { userId: string; actor?: string; authority?: Authority },
): Promise<void> {
  assertAdmin(input.authority, "turning off a user's second factor")
  await deps.store.transaction(async (tx) => {
    const user = await getUser(tx, input.userId)
    const now = deps.clock.now()
    if (!await tx.secondFactors.clear(user.id, now)) throw new InvalidState('KEYMINT_SECOND_FACTOR_NOT_ENABLED', 'this user has no second factor')
    await tx.audit.insert([auditEvent({
      accountId: user.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'user.second_factor_disabled', target: user.id,
      details: { reset: true }, createdAt: now,
    })])
  })
}

/** Requires (or stops requiring) a second factor of every admin of the account; admins only. */
export async function setRequireAdminSecondFactor(
  deps: { store: Store; clock: Clock },
  input: { accountId: string; required: boolean; actor?: string; authority?: Authority },
): Promise<Account> {
  assertAdmin(input.authority, 'changing whether admins need a second factor')
  return deps.store.transaction(async (tx) => {
    const before = await getAccount(tx, input.accountId)
    const after = await tx.accounts.setRequireAdminSecondFactor(before.id, input.required)
    if (!after) throw new NotFound('KEYMINT_ACCOUNT_NOT_FOUND', `account ${input.accountId} not found`)
    if (before.requireAdminSecondFactor !== after.requireAdminSecondFactor) {
      await tx.audit.insert([auditEvent({
        accountId: after.id, actor: input.actor ?? DEFAULT_ACTOR, action: 'account.updated', target: after.id,
        details: { require_admin_second_factor: { before: before.requireAdminSecondFactor, after: after.requireAdminSecondFactor } },
        createdAt: deps.clock.now(),
      })])
    }
    return after
  })
}
