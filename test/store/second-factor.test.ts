import assert from 'node:assert/strict'
import { test } from 'node:test'
import { totpCode } from '../../src/crypto/totp.js'
import { createAccount } from '../../src/domain/accounts.js'
import { setUserPassword } from '../../src/domain/passwords.js'
import {
  beginTotpEnrollment, checkSecondFactor, confirmTotpEnrollment, disableTotp, OtpRefused, SecondFactorRequired, secondFactorState,
  setRequireAdminSecondFactor,
} from '../../src/domain/second-factor.js'
import { signIn, SignInRefused } from '../../src/domain/sessions.js'
import { createUser } from '../../src/domain/users.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { startTestServer } from '../helpers/server.js'

const POLICY = { idleSeconds: 1800, absoluteSeconds: 12 * 3600 }
const PASSWORD = 'a long passphrase of my own'

describeEachDialect('second factor', (dialect) => {
  test('TOTP: stored sealed, enabled by a first code, each code taken once, recovery codes stored as hashes and used once', async (t) => {
    const { services, clock } = await startTestServer(t, dialect)
    const deps = { store: services.store, clock, sealer: services.sealer, passwords: services.passwords }
    const db = services.database.db
    const account = await createAccount(deps, { name: 'acme' })
    const user = await createUser(deps, { accountId: account.id, email: 'ada@example.com', role: 'admin' })
    await setUserPassword(deps, { userId: user.id, password: PASSWORD })

    const { secret } = await beginTotpEnrollment(deps, { user })
    const row = () => db.selectFrom('users').select(['totp_secret_sealed', 'totp_enabled_at', 'totp_last_step']).where('id', '=', user.id).executeTakeFirstOrThrow()
    const pending = await row()
    assert.ok(pending.totp_secret_sealed?.startsWith('v1.') && !pending.totp_secret_sealed.includes(secret), 'sealed under the master key')
    assert.equal(pending.totp_enabled_at, null)
    const { recoveryCodes } = await confirmTotpEnrollment(deps, { user, code: totpCode(secret, clock.now()) })
    const enabled = await row()
    assert.equal(typeof enabled.totp_enabled_at, 'number')
    assert.equal(typeof enabled.totp_last_step, 'number')
    const hashes = await db.selectFrom('recovery_codes').selectAll().where('user_id', '=', user.id).execute()
    assert.equal(hashes.length, 10)
    for (const code of recoveryCodes) assert.ok(hashes.every((h) => !h.code_hash.includes(code.replaceAll('-', ''))), 'only hashes are stored')

    const input = { email: user.email, password: PASSWORD, address: '127.0.0.1', userAgent: 'test', policy: POLICY }
    clock.advance(30)
    await assert.rejects(signIn(deps, input), SecondFactorRequired)
    const otp = totpCode(secret, clock.now())
    assert.equal((await signIn(deps, { ...input, otp })).user.id, user.id)
    await assert.rejects(signIn(deps, { ...input, otp }), (e) => e instanceof SignInRefused && e.reason === 'wrong_otp', 'the same code twice')
    assert.ok(await signIn(deps, { ...input, otp: recoveryCodes[0]! }))
    await assert.rejects(signIn(deps, { ...input, otp: recoveryCodes[0]! }), SignInRefused, 'a recovery code twice')
    assert.equal((await secondFactorState(deps, { user })).recoveryCodesLeft, 9)

    // Two instances taking the same fresh code at once: exactly one succeeds.
    clock.advance(30)
    const fresh = totpCode(secret, clock.now())
    const results = await Promise.allSettled([0, 1, 2].map(() => checkSecondFactor(deps, { user, otp: fresh })))
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof OtpRefused, String(r.reason))

    // A sealed secret is bound to its user: copied to another user's row, it does not open.
    const other = await createUser(deps, { accountId: account.id, email: 'eve@example.com' })
    await db.updateTable('users').set({ totp_secret_sealed: enabled.totp_secret_sealed, totp_enabled_at: enabled.totp_enabled_at }).where('id', '=', other.id).execute()
    await assert.rejects(checkSecondFactor(deps, { user: other, otp: fresh }), /cannot decrypt/)

    clock.advance(30)
    await disableTotp(deps, { user, otp: totpCode(secret, clock.now()) })
    assert.deepEqual(await row(), { totp_secret_sealed: null, totp_enabled_at: null, totp_last_step: null })
    assert.equal((await db.selectFrom('recovery_codes').selectAll().where('user_id', '=', user.id).execute()).length, 0)
    assert.ok(await signIn(deps, input), 'the password alone again')
  })

  test('an account can require a second factor of every admin', async (t) => {
    const { services, clock } = await startTestServer(t, dialect)
    const deps = { store: services.store, clock, sealer: services.sealer, passwords: services.passwords }
    const account = await createAccount(deps, { name: 'acme' })
    assert.equal(account.requireAdminSecondFactor, false)
    const admin = await createUser(deps, { accountId: account.id, email: 'ada@example.com', role: 'admin' })
    await setUserPassword(deps, { userId: admin.id, password: PASSWORD })
    const input = { email: admin.email, password: PASSWORD, address: '127.0.0.1', userAgent: 'test', policy: POLICY }
    assert.equal((await signIn(deps, input)).secondFactorEnrollmentRequired, false)
    const updated = await setRequireAdminSecondFactor(deps, { accountId: account.id, required: true })
    assert.deepEqual(await services.store.accounts.findById(account.id), updated)
    assert.equal(updated.requireAdminSecondFactor, true)
    const signedIn = await signIn(deps, input)
    assert.equal(signedIn.secondFactorEnrollmentRequired, true)
    assert.equal(signedIn.account.requireAdminSecondFactor, true)
  })
})
