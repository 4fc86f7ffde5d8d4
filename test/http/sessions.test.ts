import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeEachDialect } from '../helpers/dialects.js'
import { Browser, PASSWORD, personOf, signedIn } from '../helpers/browser.js'
import { startTestServer } from '../helpers/server.js'

describeEachDialect('sign-in and sessions', (dialect) => {
  test('sign-in sets an HttpOnly SameSite=Lax cookie, answers the CSRF token, and the session tells who is signed in', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user, accountId } = await personOf(s)
    const browser = new Browser(s)
    const res = await browser.signIn(user.email.toUpperCase())
    assert.equal(res.status, 201, JSON.stringify(res.body))
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('keymint_session='))
    assert.ok(cookie, 'a keymint_session cookie over http')
    const attributes = cookie.split(';').map((a) => a.trim().toLowerCase())
    for (const a of ['httponly', 'samesite=lax', 'path=/']) assert.ok(attributes.includes(a), `${a} in ${cookie}`)
    assert.ok(!attributes.includes('secure'), 'not Secure over plain http')
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(typeof res.body.csrf_token, 'string')
    assert.equal(res.body.user.id, user.id)
    assert.equal(res.body.user.role, 'admin')
    assert.equal(res.body.account.id, accountId)
    assert.equal(res.body.account.plan, 'enterprise')
    assert.equal(res.body.password_change_required, false)
    assert.ok(Date.parse(res.body.expires_at) > Date.now() + 11 * 3600 * 1000)
    assert.ok(!JSON.stringify(res.body).includes(browser.cookie?.split('=')[1] ?? '-'), 'the session id is only in the cookie')

    const current = await browser.call('GET', '/sessions/current')
    assert.equal(current.status, 200)
    assert.equal(current.body.csrf_token, res.body.csrf_token, 'the same CSRF token, for a reloaded page')
    assert.equal(current.body.user.email, user.email)
    // The admin's session manages the account through the same API as a bearer token.
    assert.equal((await browser.call('GET', '/users')).status, 200)
    const created = await browser.call('POST', '/users', { email: 'new@example.com' })
    assert.equal(created.status, 201, JSON.stringify(created.body))

    // A second sign-in gets a new id and ends the session the browser had.
    const before = browser.cookie
    assert.equal((await browser.signIn(user.email)).status, 201)
    assert.notEqual(browser.cookie, before)
    const stale = new Browser(s)
    stale.cookie = before
    assert.equal((await stale.call('GET', '/sessions/current')).status, 401)
  })

  test('over https the cookie is __Host- prefixed and Secure, and HSTS is sent', async (t) => {
    const s = await startTestServer(t, dialect, { issuer: 'https://keymint.example' })
    const { user } = await personOf(s)
    const browser = new Browser(s)
    const res = await browser.signIn(user.email)
    assert.equal(res.status, 201)
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-keymint_session='))
    assert.ok(cookie, `a __Host- cookie: ${res.headers.getSetCookie().join(' | ')}`)
    assert.ok(/;\s*Secure/i.test(cookie) && /Path=\//.test(cookie) && !/Domain=/i.test(cookie))
    assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=\d+/)
    const current = await browser.call('GET', '/sessions/current')
    assert.equal(current.status, 200, 'the prefixed cookie is read back')
    // Same origin as the issuer, though the request went to the loopback address.
    assert.equal((await browser.call('POST', '/users', { email: 'x@example.com' }, { origin: 'https://keymint.example' })).status, 201)
  })

  test('a state-changing call with the cookie needs the CSRF token and a same-origin Origin; bearer calls do not', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user } = await personOf(s)
    const browser = await signedIn(s, user.email)
    const cases: [string, Parameters<Browser['call']>[3]][] = [
      ['no X-CSRF-Token', { csrf: false }],
      ['a wrong X-CSRF-Token', { csrf: 'A'.repeat(43) }],
      ["another session's token", { csrf: (await signedIn(s, user.email)).csrf ?? '' }],
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['no Origin', { origin: null }],
      ['Origin: null', { origin: 'null' }],
    ]
    for (const [name, opts] of cases) {
      const res = await browser.call('POST', '/users', { email: `${name.replace(/\W/g, '')}@example.com` }, opts)
      assert.equal(res.status, 403, `${name}: ${JSON.stringify(res.body)}`)
      assert.equal(res.body.code, 'KEYMINT_CSRF_CHECK_FAILED', name)
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/)
    }
    const users = await browser.call('GET', '/users')
    assert.equal(users.body.items.length, 1, 'nothing was created')
    assert.equal((await browser.call('DELETE', '/sessions/current', undefined, { csrf: false })).status, 403, 'sign-out too')
    // GET needs neither.
    assert.equal((await browser.call('GET', '/users', undefined, { csrf: false, origin: 'https://evil.example' })).status, 200)
    // Sign-in from a foreign page is refused (login CSRF).
    assert.equal((await new Browser(s).call('POST', '/sessions', { email: user.email, password: PASSWORD }, { origin: 'https://evil.example' })).status, 403)
  })

  test('a session ends when idle, at its absolute end, and the ended cookie is cleared', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user } = await personOf(s)
    const idle = await signedIn(s, user.email)
    s.clock.advance(29 * 60)
    assert.equal((await idle.call('GET', '/sessions/current')).status, 200, 'used within 30 minutes')
    s.clock.advance(29 * 60)
    assert.equal((await idle.call('GET', '/sessions/current')).status, 200, 'each use restarts the idle time')
    s.clock.advance(30 * 60)
    const ended = await idle.call('GET', '/sessions/current')
    assert.equal(ended.status, 401)
    assert.equal(ended.body.code, 'KEYMINT_SESSION_ENDED')
    assert.ok(ended.headers.getSetCookie().some((c) => c.startsWith('keymint_session=;')), 'the cookie is cleared')

    const busy = await signedIn(s, user.email)
    for (let minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
      s.clock.advance(20 * 60)
      assert.equal((await busy.call('GET', '/sessions/current')).status, 200, `at ${minutes + 20} minutes`)
    }
    s.clock.advance(40 * 60)
    assert.equal((await busy.call('GET', '/sessions/current')).status, 401, 'ended 12 hours after sign-in, however busy')
  })

  test('sign-out, sign-out everywhere, and ending one of my sessions from the list', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user } = await personOf(s)
    const other = await personOf(s)
    const laptop = await signedIn(s, user.email, { 'user-agent': 'laptop' })
    const phone = await signedIn(s, user.email, { 'user-agent': 'phone' })
    const theirs = await signedIn(s, other.user.email)

    const listed = await laptop.call('GET', '/sessions')
    assert.equal(listed.status, 200)
    assert.deepEqual(listed.body.items.map((i: { user_agent: string }) => i.user_agent).sort(), ['laptop', 'phone'])
    const phoneItem = listed.body.items.find((i: { user_agent: string }) => i.user_agent === 'phone')
    assert.equal(phoneItem.current, false)
    assert.equal(listed.body.items.find((i: { current: boolean }) => i.current).user_agent, 'laptop')
    // Another user's session is not mine to end.
    const theirId = (await theirs.call('GET', '/sessions')).body.items[0].id
    assert.equal((await laptop.call('DELETE', `/sessions/${encodeURIComponent(theirId)}`)).status, 404)
    assert.equal((await theirs.call('GET', '/sessions/current')).status, 200)
    assert.equal((await laptop.call('DELETE', `/sessions/${encodeURIComponent(phoneItem.id)}`)).status, 204)
    assert.equal((await phone.call('GET', '/sessions/current')).status, 401)

    assert.equal((await laptop.call('DELETE', '/sessions/current')).status, 204)
    assert.equal(laptop.cookie, undefined, 'sign-out clears the cookie')
    const again = await signedIn(s, user.email)
    const tablet = await signedIn(s, user.email)
    assert.equal((await again.call('DELETE', '/sessions')).status, 204)
    assert.equal((await tablet.call('GET', '/sessions/current')).status, 401, 'everywhere')
    assert.equal((await theirs.call('GET', '/sessions/current')).status, 200, "someone else's sessions stay")

    const audit = await s.services.database.db.selectFrom('audit_events').select(['action', 'details']).where('target', '=', user.id).execute()
    assert.ok(audit.filter((e) => e.action === 'session.created').length >= 4)
    assert.ok(audit.filter((e) => e.action === 'session.ended').length >= 3)
  })

  test('an unknown email, a wrong password, a disabled user and one without ui get the same 401', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user, accountId } = await personOf(s)
    const disabled = await personOf(s, { accountId, email: 'gone@example.com' })
    await s.services.database.db.updateTable('users').set({ disabled: 1 as never }).where('id', '=', disabled.user.id).execute()
    const noUi = await personOf(s, { accountId, email: 'api-only@example.com', permissions: ['api'] })
    const answers = [
      await new Browser(s).signIn('nobody@example.com'),
      await new Browser(s).signIn(user.email, 'not the password at all'),
      await new Browser(s).signIn(disabled.user.email),
      await new Browser(s).signIn(noUi.user.email),
    ]
    for (const res of answers) {
      assert.equal(res.status, 401)
      assert.equal(res.headers.getSetCookie().length, 0)
    }
    assert.equal(new Set(answers.map((a) => JSON.stringify(a.body))).size, 1, 'one answer for all')
    await s.server.flushUsage()
    const refused = await s.services.database.db.selectFrom('audit_events').select(['reason', 'actor', 'account_id', 'details']).where('action', '=', 'sign_in.refused').execute()
    assert.deepEqual(refused.map((r) => r.reason).sort(), ['no_ui_permission', 'unknown_email', 'user_disabled', 'wrong_password'])
    assert.equal(refused.find((r) => r.reason === 'wrong_password')?.account_id, accountId, "the account's admins see it")
    assert.equal(refused.find((r) => r.reason === 'unknown_email')?.account_id, null)
  })

  test('failed sign-ins are throttled per address and per email, and the owner at a familiar address still gets in', async (t) => {
    const s = await startTestServer(t, dialect, { trustProxy: 'true', signInEmailLimit: 5, signInAddressLimit: 8 })
    const { user } = await personOf(s)
    const from = (address: string) => new Browser(s, { 'x-forwarded-for': address })
    assert.equal((await from('10.0.0.1').signIn(user.email)).status, 201, 'the owner signs in from home once')

    for (let i = 0; i < 5; i++) assert.equal((await from(`10.1.0.${i}`).signIn(user.email, 'guess number one')).status, 401)
    const refused = await from('10.1.0.99').signIn(user.email)
    assert.equal(refused.status, 429, 'over the email limit, even the right password from an unfamiliar address waits')
    assert.ok(Number(refused.headers.get('retry-after')) > 0)
    assert.equal((await from('10.0.0.1').signIn(user.email)).status, 201, 'not a lock-out: the owner at home gets in')
    s.clock.advance(15 * 60)
    assert.equal((await from('10.1.0.99').signIn(user.email)).status, 201, 'after the window')

    for (let i = 0; i < 8; i++) assert.equal((await from('10.2.0.1').signIn(`someone${i}@example.com`)).status, 401)
    const byAddress = await from('10.2.0.1').signIn(user.email)
    assert.equal(byAddress.status, 429, 'over the address limit')
    assert.equal(byAddress.body.title, 'temporarily_unavailable')
  })

  test('members read, admins of standard accounts are told key pairs are an enterprise feature', async (t) => {
    const s = await startTestServer(t, dialect)
    const { accountId } = await personOf(s)
    const member = await personOf(s, { accountId, role: 'member' })
    const browser = await signedIn(s, member.user.email)
    assert.equal((await browser.call('GET', '/users')).status, 200)
    assert.equal((await browser.call('GET', '/clients')).status, 200)
    const write = await browser.call('POST', '/users', { email: 'x@example.com' })
    assert.equal(write.status, 403)
    assert.equal(write.body.title, 'insufficient_scope')
    assert.equal((await browser.call('GET', '/audit-events')).status, 403)
    assert.equal((await browser.call('POST', '/me/key-pair')).body.code, 'KEYMINT_ADMINS_ONLY')

    const standard = await personOf(s, { plan: 'standard' })
    const small = await signedIn(s, standard.user.email)
    for (const [method, path] of [['GET', '/clients'], ['POST', '/clients'], ['GET', '/me/key-pair'], ['POST', '/me/key-pair']] as const) {
      const res = await small.call(method, path, method === 'POST' && path === '/clients' ? { name: 'x', level: 'subscription' } : undefined)
      assert.equal(res.status, 403, `${method} ${path}`)
      assert.equal(res.body.code, 'KEYMINT_PLAN_FORBIDS_KEY_PAIRS')
      assert.match(res.body.detail, /enterprise/)
    }
    assert.equal((await small.call('GET', '/users')).status, 200, 'the rest of the account is theirs')
  })
})
