import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeDeps, type FakeDeps } from '../../test/fakes/deps.js'
import { totpCode } from '../crypto/totp.js'
import { createAccount } from './accounts.js'
import { Forbidden, InvalidInput, InvalidState } from './errors.js'
import { setUserPassword } from './passwords.js'
import {
  beginTotpEnrollment, checkSecondFactor, confirmTotpEnrollment, disableTotp, OtpRefused, regenerateRecoveryCodes, resetSecondFactor,
  SecondFactorRequired, secondFactorState, setRequireAdminSecondFactor, type OtpRefusal,
} from './second-factor.js'
import { signIn, SignInRefused } from './sessions.js'
import type { User } from './types.js'
import { createUser } from './users.js'

const PASSWORD = 'a long passphrase of my own'
const POLICY = { idleSeconds: 1800, absoluteSeconds: 12 * 3600 }

async function world() {
  const deps = fakeDeps()
  // Pinned mid-step, so a code of the current step stays current when the test does not move the clock.
  deps.clock.set(new Date('2030-01-01T00:00:10Z'))
  const account = await createAccount(deps, { name: 'acme' })
  const admin = await createUser(deps, { accountId: account.id, email: 'ada@example.com', role: 'admin' })
  const member = await createUser(deps, { accountId: account.id, email: 'bob@example.com' })
  for (const user of [admin, member]) await setUserPassword(deps, { userId: user.id, password: PASSWORD })
  return { deps, account, admin, member }
}

/** Enrolls the user with a code of the clock's current step; returns the secret and the recovery codes. */
async function enroll(deps: FakeDeps, user: User): Promise<{ secret: string; recoveryCodes: string[] }> {
  const { secret } = await beginTotpEnrollment(deps, { user })
  const { recoveryCodes } = await confirmTotpEnrollment(deps, { user, code: totpCode(secret, deps.clock.now()) })
  return { secret, recoveryCodes }
}

const refusedFor = (reason: OtpRefusal) => (err: unknown) => err instanceof OtpRefused && err.code === 'KEYMINT_OTP_INVALID' && err.reason === reason
const audited = async (deps: FakeDeps) => deps.store.audit.list({ limit: 100 })
const signInAs = (deps: FakeDeps, email: string, extra: { otp?: string; password?: string } = {}) =>
  signIn(deps, { email, password: extra.password ?? PASSWORD, address: '127.0.0.1', userAgent: 'test', policy: POLICY, ...(extra.otp === undefined ? {} : { otp: extra.otp }) })

test('enrollment: pending until a first code confirms it; the secret is stored sealed; ten recovery codes, shown once', async () => {
  const { deps, admin } = await world()
  const { secret, otpauthUri } = await beginTotpEnrollment(deps, { user: admin, issuer: 'Acme keymint' })
  assert.match(secret, /^[A-Z2-7]{32}$/)
  assert.equal(otpauthUri, `otpauth://totp/Acme%20keymint:ada%40example.com?secret=${secret}&issuer=Acme%20keymint&algorithm=SHA1&digits=6&period=30`)
  assert.ok(!JSON.stringify(deps.store.dump()).includes(secret), 'stored sealed only')
  assert.deepEqual(await secondFactorState(deps, { user: admin }), { enabled: false, enabledAt: null, recoveryCodesLeft: 0, enrollmentRequired: false })
  assert.ok(await signInAs(deps, admin.email), 'a pending enrollment changes nothing at sign-in')

  const before = deps.store.dump()
  const wrong = totpCode(secret, new Date(deps.clock.now().getTime() + 90_000))
  await assert.rejects(confirmTotpEnrollment(deps, { user: admin, code: wrong }), (e) => e instanceof InvalidInput && e.code === 'KEYMINT_ENROLLMENT_OTP_INVALID')
  assert.deepEqual(deps.store.dump(), before, 'a wrong code writes nothing')

  const { recoveryCodes } = await confirmTotpEnrollment(deps, { user: admin, code: totpCode(secret, deps.clock.now()) })
  assert.equal(recoveryCodes.length, 10)
  assert.equal(new Set(recoveryCodes).size, 10)
  for (const code of recoveryCodes) assert.match(code, /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/)
  assert.deepEqual(await secondFactorState(deps, { user: admin }), { enabled: true, enabledAt: deps.clock.now(), recoveryCodesLeft: 10, enrollmentRequired: false })
  const stored = JSON.stringify(deps.store.dump())
  for (const code of recoveryCodes) assert.ok(!stored.includes(code) && !stored.includes(code.replaceAll('-', '')), 'recovery codes stored as hashes only')
  const [event] = (await audited(deps)).filter((e) => e.action === 'user.second_factor_enabled')
  assert.deepEqual([event?.actor, event?.target, event?.details], [`user:${admin.id}`, admin.id, { method: 'totp', recovery_codes: 10 }])

  await assert.rejects(beginTotpEnrollment(deps, { user: admin }), (e) => e instanceof InvalidState && e.code === 'KEYMINT_SECOND_FACTOR_ENABLED')
  await assert.rejects(confirmTotpEnrollment(deps, { user: admin, code: '000000' }), (e) => e instanceof InvalidState && e.code === 'KEYMINT_SECOND_FACTOR_ENABLED')
})

test('a code of the current step is accepted once; the same code, or one of an earlier step, is refused', async () => {
  const { deps, admin, member } = await world()
  const { secret } = await enroll(deps, member)
  const now = () => deps.clock.now()
  await assert.rejects(checkSecondFactor(deps, { user: member, otp: totpCode(secret, now()) }), refusedFor('replayed_code'), 'the enrolling code was used')
  deps.clock.advance(30)
  const code = totpCode(secret, now())
  assert.deepEqual(await checkSecondFactor(deps, { user: member, otp: code }), { method: 'totp' })
  await assert.rejects(checkSecondFactor(deps, { user: member, otp: code }), refusedFor('replayed_code'), 'the same code a second time')
  deps.clock.advance(30)
  const late = totpCode(secret, new Date(now().getTime() - 30_000))
  await assert.rejects(checkSecondFactor(deps, { user: member, otp: late }), refusedFor('replayed_code'), 'within the window but not after the last')
  const early = totpCode(secret, new Date(now().getTime() + 30_000))
  assert.deepEqual(await checkSecondFactor(deps, { user: member, otp: early }), { method: 'totp' }, 'one step ahead: drift')
  await assert.rejects(checkSecondFactor(deps, { user: member, otp: totpCode(secret, now()) }), refusedFor('replayed_code'), 'after a later step, the current one is spent')
  deps.clock.advance(60)
  await assert.rejects(checkSecondFactor(deps, { user: member, otp: totpCode(secret, new Date(now().getTime() + 120_000)) }), refusedFor('wrong_code'))
  await assert.rejects(checkSecondFactor(deps, { user: member, otp: 'x'.repeat(65) }), refusedFor('malformed'))
  for (const otp of [undefined, '', '   ']) await assert.rejects(checkSecondFactor(deps, { user: member, otp }), SecondFactorRequired)
  await assert.rejects(checkSecondFactor(deps, { user: admin, otp: '123456' }), (e) => e instanceof InvalidState && e.code === 'KEYMINT_SECOND_FACTOR_NOT_ENABLED')
})

test('a recovery code works once, however it is typed; the audit log counts what is left and never holds a code', async () => {
  const { deps, member } = await world()
  const { recoveryCodes } = await enroll(deps, member)
  const [first, second] = recoveryCodes as [string, string]
  assert.deepEqual(await checkSecondFactor(deps, { user: member, otp: first }), { method: 'recovery_code' })
  await assert.rejects(checkSecondFactor(deps, { user: member, otp: first }), refusedFor('unknown_recovery_code'), 'used already')
  deps.clock.advance(1)
  assert.deepEqual(await checkSecondFactor(deps, { user: member, otp: ` ${second.toUpperCase().replaceAll('-', ' ')} ` }), { method: 'recovery_code' })
  await assert.rejects(checkSecondFactor(deps, { user: member, otp: 'aaaa-bbbb-cccc' }), refusedFor('unknown_recovery_code'))
  assert.equal((await secondFactorState(deps, { user: member })).recoveryCodesLeft, 8)
  const used = (await audited(deps)).filter((e) => e.action === 'user.recovery_code_used')
  assert.deepEqual(used.map((e) => e.details), [{ recovery_codes_left: 8 }, { recovery_codes_left: 9 }])
  const log = JSON.stringify(await audited(deps))
  for (const code of recoveryCodes) assert.ok(!log.includes(code.replaceAll('-', '')) && !log.includes(code))

  deps.clock.advance(30)
  await assert.rejects(regenerateRecoveryCodes(deps, { user: member, otp: first }), OtpRefused, 'a used code proves nothing')
  const fresh = await regenerateRecoveryCodes(deps, { user: member, otp: recoveryCodes[2]! })
  assert.equal(fresh.recoveryCodes.length, 10)
  assert.equal((await secondFactorState(deps, { user: member })).recoveryCodesLeft, 10)
  await assert.rejects(checkSecondFactor(deps, { user: member, otp: recoveryCodes[3]! }), OtpRefused, 'the old codes are gone')
  assert.deepEqual(await checkSecondFactor(deps, { user: member, otp: fresh.recoveryCodes[0]! }), { method: 'recovery_code' })
  assert.equal((await audited(deps)).filter((e) => e.action === 'user.recovery_codes_regenerated').length, 1)
})

test('signIn with TOTP on: no otp asks for one (after a right password only); a wrong or replayed one is the generic refusal', async () => {
  const { deps, admin, member } = await world()
  const { secret, recoveryCodes } = await enroll(deps, member)
  deps.clock.advance(30)
  await assert.rejects(signInAs(deps, member.email), (e) => e instanceof SecondFactorRequired && e.code === 'KEYMINT_OTP_REQUIRED')
  const wrongPassword = await signInAs(deps, member.email, { password: 'not the passphrase' }).catch((e: unknown) => e)
  assert.ok(wrongPassword instanceof SignInRefused && wrongPassword.reason === 'wrong_password', 'the password is checked first')
  const wrongOtp = await signInAs(deps, member.email, { otp: totpCode(secret, new Date(deps.clock.now().getTime() + 300_000)) }).catch((e: unknown) => e)
  assert.ok(wrongOtp instanceof SignInRefused && wrongOtp.reason === 'wrong_otp')
  assert.deepEqual([wrongOtp.code, wrongOtp.message, wrongOtp.kind], [wrongPassword.code, wrongPassword.message, wrongPassword.kind], 'one answer for both')

  const otp = totpCode(secret, deps.clock.now())
  const signedIn = await signInAs(deps, member.email, { otp })
  assert.equal(signedIn.user.id, member.id)
  assert.equal(signedIn.secondFactorEnrollmentRequired, false)
  await assert.rejects(signInAs(deps, member.email, { otp }), (e) => e instanceof SignInRefused && e.reason === 'wrong_otp', 'a replayed code')
  assert.ok(await signInAs(deps, member.email, { otp: recoveryCodes[0]! }))
  await assert.rejects(signInAs(deps, member.email, { otp: recoveryCodes[0]! }), SignInRefused, 'a used recovery code')
  assert.equal((await audited(deps)).filter((e) => e.action === 'session.created' && e.target === member.id).length, 2, 'refusals open no session')
  assert.equal((await audited(deps)).filter((e) => e.action === 'user.recovery_code_used').length, 1)
  assert.ok(await signInAs(deps, admin.email, { otp: '123456' }), 'an otp is ignored for a user without a second factor')
})

test('an account that requires a second factor of admins: an admin without one signs in and is told to enroll', async () => {
  const { deps, account, admin, member } = await world()
  await assert.rejects(setRequireAdminSecondFactor(deps, { accountId: account.id, required: true, authority: { scopes: new Set() } }), Forbidden)
  const updated = await setRequireAdminSecondFactor(deps, { accountId: account.id, required: true, actor: `user:${admin.id}`, authority: { scopes: new Set(['keymint:admin']) } })
  assert.equal(updated.requireAdminSecondFactor, true)
  await setRequireAdminSecondFactor(deps, { accountId: account.id, required: true })
  const changes = (await audited(deps)).filter((e) => e.action === 'account.updated')
  assert.deepEqual(changes.map((e) => [e.actor, e.details]), [[`user:${admin.id}`, { require_admin_second_factor: { before: false, after: true } }]], 'audited when it changes')

  assert.equal((await signInAs(deps, admin.email)).secondFactorEnrollmentRequired, true)
  assert.equal((await signInAs(deps, member.email)).secondFactorEnrollmentRequired, false, 'members are not held to it')
  assert.equal((await secondFactorState(deps, { user: admin })).enrollmentRequired, true)
  const { secret } = await enroll(deps, admin)
  deps.clock.advance(30)
  assert.equal((await signInAs(deps, admin.email, { otp: totpCode(secret, deps.clock.now()) })).secondFactorEnrollmentRequired, false)
  assert.equal((await secondFactorState(deps, { user: admin })).enrollmentRequired, false)
})

test('disableTotp needs a code and is refused to an admin the account holds to it; an admin reset needs no code', async () => {
  const { deps, account, admin, member } = await world()
  const { secret } = await enroll(deps, member)
  deps.clock.advance(30)
  await assert.rejects(disableTotp(deps, { user: member, otp: '' }), SecondFactorRequired)
  await assert.rejects(disableTotp(deps, { user: member, otp: totpCode(secret, new Date(deps.clock.now().getTime() + 300_000)) }), OtpRefused)
  await disableTotp(deps, { user: member, otp: totpCode(secret, deps.clock.now()) })
  assert.deepEqual(await secondFactorState(deps, { user: member }), { enabled: false, enabledAt: null, recoveryCodesLeft: 0, enrollmentRequired: false })
  assert.ok(await signInAs(deps, member.email), 'the password alone again')
  const [off] = (await audited(deps)).filter((e) => e.action === 'user.second_factor_disabled')
  assert.deepEqual([off?.actor, off?.target, off?.details], [`user:${member.id}`, member.id, {}])

  const adminFactor = await enroll(deps, admin)
  await setRequireAdminSecondFactor(deps, { accountId: account.id, required: true })
  deps.clock.advance(30)
  await assert.rejects(disableTotp(deps, { user: admin, otp: totpCode(adminFactor.secret, deps.clock.now()) }), (e) => e instanceof Forbidden && e.code === 'KEYMINT_SECOND_FACTOR_MANDATORY')

  await assert.rejects(resetSecondFactor(deps, { userId: admin.id, authority: { scopes: new Set(['keymint:users:write']) } }), Forbidden)
  await resetSecondFactor(deps, { userId: admin.id, actor: 'cli' })
  assert.equal((await signInAs(deps, admin.email)).secondFactorEnrollmentRequired, true, 'enrolls again at the next sign-in')
  await assert.rejects(resetSecondFactor(deps, { userId: admin.id }), (e) => e instanceof InvalidState && e.code === 'KEYMINT_SECOND_FACTOR_NOT_ENABLED')
  const resets = (await audited(deps)).filter((e) => e.action === 'user.second_factor_disabled' && e.target === admin.id)
  assert.deepEqual(resets.map((e) => [e.actor, e.details]), [['cli', { reset: true }]])
  const log = JSON.stringify(await audited(deps))
  assert.ok(!log.includes(secret) && !log.includes(adminFactor.secret), 'no secret in the audit log')
})
