import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { prepareInstance, startServer } from '../../src/server.js'
import { Browser, PASSWORD, personOf, signedIn } from '../helpers/browser.js'
import { cleanup } from '../helpers/cleanup.js'
import { createTestDatabase, describeEachDialect } from '../helpers/dialects.js'
import { startTestServer, tempDir, TestClock, type TestServer } from '../helpers/server.js'
import { openServices } from '../../src/services.js'

/** The seed's header dialect, as a user-level integration calls it. */
async function tokenStatus(s: TestServer, clientId: string, clientSecret: string): Promise<number> {
  const res = await fetch(`${s.url}/auth/oidc`, { method: 'POST', headers: { clientId, clientSecret } })
  await res.arrayBuffer()
  return res.status
}

describeEachDialect("my API key pair, my password, and the bootstrap admin's first sign-in", (dialect) => {
  test('an admin generates their own key pair; a new one revokes the old at once, or after a grace', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user } = await personOf(s)
    const browser = await signedIn(s, user.email)
    const none = await browser.call('GET', '/me/key-pair')
    assert.equal(none.status, 200)
    assert.deepEqual(none.body, { client: null, key_pairs: [] })

    const first = await browser.call('POST', '/me/key-pair')
    assert.equal(first.status, 201, JSON.stringify(first.body))
    assert.equal(first.headers.get('cache-control'), 'no-store')
    assert.equal(first.body.client.level, 'user')
    assert.equal(first.body.client.user_id, user.id)
    const { client_id: firstId, client_secret: firstSecret } = first.body.key_pair
    assert.equal(typeof firstSecret, 'string')
    assert.equal(await tokenStatus(s, firstId, firstSecret), 200)

    const shown = await browser.call('GET', '/me/key-pair')
    assert.equal(shown.body.client.id, first.body.client.id)
    assert.deepEqual(shown.body.key_pairs.map((k: { client_id: string; state: string }) => [k.client_id, k.state]), [[firstId, 'active']])
    assert.ok(!JSON.stringify(shown.body).includes(firstSecret), 'never the secret again')
    await s.server.flushUsage()
    assert.ok((await browser.call('GET', '/me/key-pair')).body.key_pairs[0].last_used_at, 'when it was last used')

    const second = await browser.call('POST', '/me/key-pair', {})
    assert.equal(second.status, 201)
    assert.equal(second.body.client.id, first.body.client.id, 'the same client: one key pair per admin')
    assert.deepEqual(second.body.ended.map((e: { client_id: string }) => e.client_id), [firstId])
    assert.equal(await tokenStatus(s, firstId, firstSecret), 401, 'the old pair stops at once')
    const { client_id: secondId, client_secret: secondSecret } = second.body.key_pair
    assert.equal(await tokenStatus(s, secondId, secondSecret), 200)

    const third = await browser.call('POST', '/me/key-pair', { grace_seconds: 3600 })
    assert.equal(third.status, 201)
    assert.equal(await tokenStatus(s, secondId, secondSecret), 200, 'still works during the grace')
    const states = (await browser.call('GET', '/me/key-pair')).body.key_pairs.map((k: { client_id: string; state: string }) => [k.client_id, k.state])
    assert.deepEqual(states.sort(), [[secondId, 'grace'], [third.body.key_pair.client_id, 'active']].sort())
    assert.equal((await browser.call('POST', '/me/key-pair', { grace_seconds: -1 })).status, 400)
    assert.equal((await browser.call('POST', '/me/key-pair', {}, { csrf: false })).status, 403)
    s.clock.advance(3601)
    assert.equal(await tokenStatus(s, secondId, secondSecret), 401, 'and stops after it')

    // Someone else's session does not reach this admin's pair.
    const other = await personOf(s)
    const theirs = await signedIn(s, other.user.email)
    assert.deepEqual((await theirs.call('GET', '/me/key-pair')).body, { client: null, key_pairs: [] })
  })

  test('changing my password needs the current one, ends every session and answers a new one', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user } = await personOf(s)
    const browser = await signedIn(s, user.email)
    const elsewhere = await signedIn(s, user.email)
    const wrong = await browser.call('POST', '/me/password', { current_password: 'not my password', new_password: 'a brand new passphrase' })
    assert.equal(wrong.status, 400)
    assert.equal(wrong.body.code, 'KEYMINT_WRONG_PASSWORD')
    const weak = await browser.call('POST', '/me/password', { current_password: PASSWORD, new_password: 'password1234' })
    assert.equal(weak.body.code, 'KEYMINT_WEAK_PASSWORD')
    const changed = await browser.call('POST', '/me/password', { current_password: PASSWORD, new_password: 'a brand new passphrase' })
    assert.equal(changed.status, 200, JSON.stringify(changed.body))
    assert.equal((await browser.call('GET', '/sessions/current')).status, 200, 'this browser has the new session')
    assert.equal((await elsewhere.call('GET', '/sessions/current')).status, 401, 'every other session ended')
    assert.equal((await new Browser(s).signIn(user.email)).status, 401, 'the old password no longer works')
    assert.equal((await new Browser(s).signIn(user.email, 'a brand new passphrase')).status, 201)
  })

  test("the first start's one-time password must be replaced before anything else, and works once", async (t) => {
    const dir = tempDir(t)
    const db = await createTestDatabase(t, dialect, dir)
    const config = loadConfig({ db: db.url, port: 0, logLevel: 'silent', adminEmail: 'first@example.com' }, { KEYMINT_MASTER_KEY: generateMasterKey() })
    const prepared = await prepareInstance(config)
    const oneTime = prepared.bootstrapped?.oneTimePassword
    assert.ok(oneTime && oneTime.length >= 12, 'a one-time password on an empty database')
    assert.equal((await prepareInstance(config)).bootstrapped, undefined, 'and only then')
    const services = { ...await openServices(config), clock: new TestClock() }
    const server = await startServer(config, { services })
    cleanup(t, () => server.close())
    const s: TestServer = { url: server.url, server, services, config, clock: services.clock }

    const browser = new Browser(s)
    const res = await browser.signIn('first@example.com', oneTime)
    assert.equal(res.status, 201)
    assert.equal(res.body.password_change_required, true)
    const blocked = await browser.call('GET', '/users')
    assert.equal(blocked.status, 403)
    assert.equal(blocked.body.code, 'KEYMINT_PASSWORD_CHANGE_REQUIRED')
    assert.equal((await browser.call('POST', '/me/key-pair')).body.code, 'KEYMINT_PASSWORD_CHANGE_REQUIRED')
    assert.equal((await browser.call('GET', '/sessions/current')).body.password_change_required, true)
    const changed = await browser.call('POST', '/me/password', { current_password: oneTime, new_password: 'my own long passphrase' })
    assert.equal(changed.status, 200, JSON.stringify(changed.body))
    assert.equal(changed.body.password_change_required, false)
    assert.equal((await browser.call('GET', '/users')).status, 200)
    assert.equal((await new Browser(s).signIn('first@example.com', oneTime)).status, 401, 'the one-time password is spent')

    // The second seed, as its first reader would follow it: the admin generates keys on the API
    // tab, then trades them for a token with curl's form body, and gets `"scope": "all"`.
    const generated = await browser.call('POST', '/me/key-pair')
    assert.equal(generated.status, 201, JSON.stringify(generated.body))
    const { client_id: clientId, client_secret: clientSecret } = generated.body.key_pair
    const token = await fetch(`${s.url}/oauth2/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=client_credentials&client_id=${clientId}&client_secret=${clientSecret}`,
    })
    const issued = await token.json() as Record<string, unknown>
    assert.equal(token.status, 200, JSON.stringify(issued))
    assert.deepEqual([issued.token_type, issued.expires_in, issued.scope], ['Bearer', 36000, 'all'])
  })

  test('every answer a browser may load carries the security headers; no CORS', async (t) => {
    const s = await startTestServer(t, dialect)
    const { user } = await personOf(s)
    const browser = await signedIn(s, user.email, { origin: 'https://elsewhere.example' })
    for (const path of ['/api/v1/sessions/current', '/api/v1/users', '/api/v1/nothing-here', '/api/v1/docs', '/healthz']) {
      const res = await fetch(`${s.url}${path}`, { headers: { cookie: browser.cookie ?? '', origin: 'https://elsewhere.example' } })
      await res.arrayBuffer()
      const csp = res.headers.get('content-security-policy') ?? ''
      assert.match(csp, /frame-ancestors 'none'/, path)
      assert.doesNotMatch(csp, /script-src[^;]*'unsafe-inline'/, `${path}: no inline scripts`)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path)
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path)
      assert.equal(res.headers.get('strict-transport-security'), null, `${path}: no HSTS over http`)
      assert.equal(res.headers.get('access-control-allow-origin'), null, `${path}: no CORS`)
    }
    const preflight = await fetch(`${s.url}/api/v1/users`, { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' } })
    await preflight.arrayBuffer()
    assert.equal(preflight.headers.get('access-control-allow-origin'), null)
  })
})
