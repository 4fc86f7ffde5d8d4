import assert from 'node:assert/strict'
import { test } from 'node:test'
import { totpCode } from '../../src/crypto/totp.js'
import { Browser, personOf, signedIn } from '../helpers/browser.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

/** The code an authenticator app shows at the server's (pinned) time. */
const codeAt = (s: TestServer, secret: string) => totpCode(secret, s.clock.now())

describeEachDialect('second factor: TOTP and recovery codes over HTTP', (dialect) => {
  test('enroll, then sign-in needs a code; a used code and a used recovery code are refused the second time', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user } = await personOf(s)
    const browser = await signedIn(s, user.email)
    assert.deepEqual((await browser.call('GET', '/me/second-factor')).body, { enabled: false, enabled_at: null, recovery_codes_left: 0, enrollment_required: false })
    const started = await browser.call('POST', '/me/second-factor')
    assert.equal(started.status, 201)
    const secret: string = started.body.secret
    assert.match(started.body.otpauth_uri, /^otpauth:\/\/totp\/.*secret=[A-Z2-7]+/)
    const wrong = await browser.call('POST', '/me/second-factor/confirm', { otp: codeAt(s, secret) === '000000' ? '111111' : '000000' })
    assert.equal(wrong.status, 400)
    assert.equal(wrong.body.code, 'KEYMINT_ENROLLMENT_OTP_INVALID')
    const confirmed = await browser.call('POST', '/me/second-factor/confirm', { otp: codeAt(s, secret) })
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body))
    const recovery: string[] = confirmed.body.recovery_codes
    assert.equal(recovery.length, 10)
    assert.equal((await browser.call('GET', '/me/second-factor')).body.recovery_codes_left, 10)

    s.clock.advance(30)
    const noCode = await new Browser(s).signIn(user.email)
    assert.equal(noCode.status, 401)
    assert.equal(noCode.body.code, 'KEYMINT_OTP_REQUIRED', 'the password was right: the code is asked for')
    const code = codeAt(s, secret)
    assert.equal((await new Browser(s).signIn(user.email, undefined, { otp: code })).status, 201)
    const replayed = await new Browser(s).signIn(user.email, undefined, { otp: code })
    assert.equal(replayed.status, 401, 'a code works once')
    assert.equal(replayed.body.code, 'KEYMINT_SIGN_IN_REFUSED')
    const wrongPassword = await new Browser(s).signIn(user.email, 'not the password at all', { otp: codeAt(s, secret) })
    assert.deepEqual(wrongPassword.body, replayed.body, 'a wrong code and a wrong password read the same')

    assert.equal((await new Browser(s).signIn(user.email, undefined, { otp: recovery[0]! })).status, 201)
    assert.equal((await new Browser(s).signIn(user.email, undefined, { otp: recovery[0]! })).status, 401, 'a recovery code works once')
    assert.equal((await browser.call('GET', '/me/second-factor')).body.recovery_codes_left, 9)

    s.clock.advance(30)
    const renewed = await browser.call('POST', '/me/recovery-codes', { otp: codeAt(s, secret) })
    assert.equal(renewed.status, 200)
    assert.equal((await new Browser(s).signIn(user.email, undefined, { otp: recovery[1]! })).status, 401, 'the old codes are gone')
    assert.equal((await browser.call('DELETE', '/me/second-factor', { otp: '12345' })).status, 400)
    s.clock.advance(30)
    assert.equal((await browser.call('DELETE', '/me/second-factor', { otp: codeAt(s, secret) })).status, 204)
    assert.equal((await new Browser(s).signIn(user.email)).status, 201, 'the password alone again')

    const audit = await s.services.database.db.selectFrom('audit_events').select(['action', 'details']).where('target', '=', user.id).execute()
    for (const action of ['user.second_factor_enabled', 'user.recovery_code_used', 'user.second_factor_disabled']) {
      assert.ok(audit.some((e) => e.action === action), action)
    }
    const written = JSON.stringify(audit)
    for (const value of [secret, ...recovery]) assert.ok(!written.includes(value), 'no secret or code in the audit log')
  })

  test('guessing codes is throttled like guessing passwords', async (t) => {
    const s = await startTestServer(t, dialect, { signInEmailLimit: 3, signInAddressLimit: 100 })
    const { user } = await personOf(s)
    const browser = await signedIn(s, user.email)
    const secret: string = (await browser.call('POST', '/me/second-factor')).body.secret
    assert.equal((await browser.call('POST', '/me/second-factor/confirm', { otp: codeAt(s, secret) })).status, 200)
    const other = new Browser(s, { 'x-forwarded-for': '10.9.9.9' })
    const statuses: number[] = []
    for (let i = 0; i < 5; i++) statuses.push((await other.signIn(user.email, undefined, { otp: String(100000 + i) })).status)
    // From one loopback address (no proxy trusted), familiar to this email: the address limit applies.
    assert.deepEqual(statuses, [401, 401, 401, 401, 401])
    const s2 = await startTestServer(t, dialect, { signInEmailLimit: 3, signInAddressLimit: 100, trustProxy: 'true' })
    const { user: u2 } = await personOf(s2)
    const b2 = await signedIn(s2, u2.email, { 'x-forwarded-for': '10.0.0.1' })
    const secret2: string = (await b2.call('POST', '/me/second-factor')).body.secret
    assert.equal((await b2.call('POST', '/me/second-factor/confirm', { otp: codeAt(s2, secret2) })).status, 200)
    const attacker = new Browser(s2, { 'x-forwarded-for': '10.6.6.6' })
    const guesses: number[] = []
    for (let i = 0; i < 5; i++) guesses.push((await attacker.signIn(u2.email, undefined, { otp: String(200000 + i) })).status)
    assert.deepEqual(guesses, [401, 401, 401, 429, 429], 'a stranger with the password gets three guesses at the code per window')
  })

  test('an account can require a second factor of every admin: one without is made to enroll first', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user, accountId } = await personOf(s)
    const member = await personOf(s, { accountId, role: 'member' })
    const browser = await signedIn(s, user.email)
    const required = await browser.call('PATCH', '/account', { require_admin_second_factor: true })
    assert.equal(required.status, 200, JSON.stringify(required.body))
    assert.equal(required.body.require_admin_second_factor, true)
    assert.equal((await (await signedIn(s, member.user.email)).call('PATCH', '/account', { require_admin_second_factor: false })).status, 403, 'members may not')

    const blocked = await browser.call('GET', '/users')
    assert.equal(blocked.status, 403)
    assert.equal(blocked.body.code, 'KEYMINT_SECOND_FACTOR_REQUIRED')
    const again = new Browser(s)
    const signIn = await again.signIn(user.email)
    assert.equal(signIn.status, 201)
    assert.equal(signIn.body.second_factor_enrollment_required, true)
    assert.equal((await (await signedIn(s, member.user.email)).call('GET', '/users')).status, 200, 'members are not held up')

    const secret: string = (await again.call('POST', '/me/second-factor')).body.secret
    assert.equal((await again.call('POST', '/me/second-factor/confirm', { otp: codeAt(s, secret) })).status, 200)
    assert.equal((await again.call('GET', '/users')).status, 200, 'enrolled: the session does everything again')
    s.clock.advance(30)
    const off = await again.call('DELETE', '/me/second-factor', { otp: codeAt(s, secret) })
    assert.equal(off.status, 403, 'and may not turn it off while the account requires it')
  })
})
