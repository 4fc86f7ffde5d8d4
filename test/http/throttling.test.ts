import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'

// trustProxy lets one test speak from many addresses through X-Forwarded-For.
const LIMITS = { trustProxy: 'true', throttleAddressLimit: 5, throttleClientLimit: 3, throttleWindow: '60s' }
const WRONG = `kmsk_${'Z'.repeat(43)}`

const attempt = (s: TestServer, from: string, clientId: string, clientSecret: string) => fetch(`${s.url}/auth/oauth`, {
  method: 'POST', headers: { clientId, clientSecret, 'x-forwarded-for': from },
})

describeEachDialect('throttling of failed authentication', (dialect) => {
  test('an address that keeps failing gets 429 with Retry-After; other addresses do not', async (t) => {
    const s = await startTestServer(t, dialect, LIMITS)
    const victim = await seedClient(s.services)
    const others = await Promise.all(Array.from({ length: 5 }, () => seedClient(s.services)))
    for (const o of others) assert.equal((await attempt(s, '203.0.113.7', o.clientId, WRONG)).status, 401)
    const refused = await attempt(s, '203.0.113.7', victim.clientId, victim.clientSecret)
    assert.equal(refused.status, 429)
    assert.ok(Number(refused.headers.get('retry-after')) > 0)
    assert.equal((await refused.json() as { error: string }).error, 'temporarily_unavailable')
    assert.equal((await attempt(s, '198.51.100.1', victim.clientId, victim.clientSecret)).status, 200)
    s.clock.advance(61)
    assert.equal((await attempt(s, '203.0.113.7', victim.clientId, victim.clientSecret)).status, 200, 'the refusal ends with the window')
  })

  test('guessing at one client_id from many addresses does not lock the real integration out', async (t) => {
    const s = await startTestServer(t, dialect, LIMITS)
    const c = await seedClient(s.services)
    assert.equal((await attempt(s, '192.0.2.10', c.clientId, c.clientSecret)).status, 200)
    for (let i = 0; i < 3; i++) assert.equal((await attempt(s, `203.0.113.${i}`, c.clientId, WRONG)).status, 401)
    const stranger = await attempt(s, '203.0.113.200', c.clientId, c.clientSecret)
    assert.equal(stranger.status, 429, 'the client_id is refused from new addresses')
    assert.equal((await attempt(s, '192.0.2.10', c.clientId, c.clientSecret)).status, 200, 'but not from its known address')
  })

  test('the OAuth 2.0 endpoint is throttled the same way', async (t) => {
    const s = await startTestServer(t, dialect, LIMITS)
    const c = await seedClient(s.services)
    const post = (secret: string) => fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.50' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: secret }).toString(),
    })
    for (let i = 0; i < 3; i++) assert.equal((await post(WRONG)).status, 401)
    const refused = await post(c.clientSecret)
    assert.equal(refused.status, 429)
    assert.ok(refused.headers.get('retry-after'))
  })
})
