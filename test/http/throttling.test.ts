import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { createClient } from '../../src/domain/clients.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { form } from '../helpers/tokens.js'

// trustProxy lets one test speak from many addresses through X-Forwarded-For.
const LIMITS = { trustProxy: 'true', throttleAddressLimit: 5, throttleClientLimit: 3, throttleWindow: '60s' }
const WRONG = `kmsk_${'Z'.repeat(43)}`

const attempt = (s: TestServer, from: string, clientId: string, clientSecret: string) => fetch(`${s.url}/auth/oauth`, {
  method: 'POST', headers: { clientId, clientSecret, 'x-forwarded-for': from },
})

const inParallel = async (n: number, request: (i: number) => Promise<Response>): Promise<number[]> =>
  (await Promise.all(Array.from({ length: n }, async (_, i) => (await request(i)).status))).sort()

async function assertRefused(res: Response): Promise<void> {
  assert.equal(res.status, 429)
  assert.ok(Number(res.headers.get('retry-after')) > 0)
  assert.equal((await res.json() as { error: string }).error, 'temporarily_unavailable')
}

async function signedClient(s: TestServer) {
  const base = await seedClient(s.services)
  const { publicKey, privateKey } = await generateKeyPair('ES256')
  const { keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
    accountId: base.accountId, name: 'signed', level: 'subscription', publicKey: await exportSPKI(publicKey),
  })
  return { clientId: keyPair.id, privateKey }
}

const assertion = (s: TestServer, clientId: string, key: CryptoKey) => new SignJWT({ jti: randomUUID() })
  .setProtectedHeader({ alg: 'ES256' }).setIssuer(clientId).setSubject(clientId).setAudience(`${s.url}/oauth2/token`)
  .setExpirationTime(Math.floor(s.clock.now().getTime() / 1000) + 60).sign(key)

describeEachDialect('throttling of failed authentication', (dialect) => {
  test('an address that keeps failing gets 429 with Retry-After, even with good credentials; other addresses do not', async (t) => {
    const s = await startTestServer(t, dialect, LIMITS)
    const victim = await seedClient(s.services)
    const others = await Promise.all(Array.from({ length: 5 }, () => seedClient(s.services)))
    for (const o of others) assert.equal((await attempt(s, '203.0.113.7', o.clientId, WRONG)).status, 401)
    await assertRefused(await attempt(s, '203.0.113.7', victim.clientId, victim.clientSecret))
    assert.equal((await attempt(s, '198.51.100.1', victim.clientId, victim.clientSecret)).status, 200)
    s.clock.advance(61)
    assert.equal((await attempt(s, '203.0.113.7', victim.clientId, victim.clientSecret)).status, 200, 'the refusal ends with the window')
  })

  test('failures against a client_id never refuse its correct secret, from any address', async (t) => {
    const s = await startTestServer(t, dialect, LIMITS)
    const c = await seedClient(s.services)
    await inParallel(10, (i) => attempt(s, `203.0.113.${i}`, c.clientId, WRONG))
    assert.equal((await attempt(s, '198.51.100.20', c.clientId, c.clientSecret)).status, 200, 'a new address with the correct secret')
    await assertRefused(await attempt(s, '198.51.100.21', c.clientId, WRONG))
    s.clock.advance(61)
    assert.equal((await attempt(s, '198.51.100.21', c.clientId, WRONG)).status, 401, 'the count ends with the window')
  })

  test('a parallel burst of failures is counted as it fails, so it is slowed and refused as a sequence would be', async (t) => {
    const s = await startTestServer(t, dialect, LIMITS)
    const c = await seedClient(s.services)
    assert.deepEqual(await inParallel(10, (i) => attempt(s, `203.0.113.${i}`, c.clientId, WRONG)), [401, 401, 401, 429, 429, 429, 429, 429, 429, 429])
    // Each failure sees the ones counted before it: 100 ms for each past half the limit (3).
    assert.deepEqual([...s.clock.waits].sort((a, b) => a - b), [100, 200, 300, 400, 500, 600, 700, 800, 900])
    await s.server.flushUsage()
    const refused = (await s.services.store.audit.list({ limit: 100 })).filter((e) => e.action === 'authentication.refused')
    assert.ok(refused.every((e) => e.target === c.clientId && e.accountId === c.accountId), 'a real client keeps its id and account, throttled or not')
    const counted = (reason: string) => refused.filter((e) => e.reason === reason).reduce((n, e) => n + e.count, 0)
    assert.deepEqual([counted('secret_mismatch'), counted('throttled')], [3, 7])
  })

  test('a parallel burst from one address is refused past the address limit, and good credentials after it', async (t) => {
    const s = await startTestServer(t, dialect, LIMITS)
    const victim = await seedClient(s.services)
    const ids = Array.from({ length: 8 }, () => randomUUID())
    assert.deepEqual(await inParallel(8, (i) => attempt(s, '203.0.113.9', ids[i]!, WRONG)), [401, 401, 401, 401, 401, 429, 429, 429])
    await assertRefused(await attempt(s, '203.0.113.9', victim.clientId, victim.clientSecret))
    await s.server.flushUsage()
    const throttled = (await s.services.store.audit.list({ limit: 100 })).filter((e) => e.reason === 'throttled')
    assert.deepEqual(throttled.map((e) => [e.target, e.accountId, e.count, e.details]), [[null, null, 4, { address: '203.0.113.9', client_ids: 4 }]],
      'refused before the credentials were read: folded per address')
  })

  test('the OAuth 2.0 endpoint is throttled the same way', async (t) => {
    const s = await startTestServer(t, dialect, LIMITS)
    const c = await seedClient(s.services)
    const post = (secret: string) => fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.50' },
      body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: secret }),
    })
    for (let i = 0; i < 3; i++) assert.equal((await post(WRONG)).status, 401)
    assert.equal((await post(c.clientSecret)).status, 200)
    await assertRefused(await post(WRONG))
  })

  test('failed assertions never refuse a correctly signed one', async (t) => {
    const s = await startTestServer(t, dialect, LIMITS)
    const c = await signedClient(s)
    const { privateKey: stranger } = await generateKeyPair('ES256')
    const post = async (from: string, key: CryptoKey) => fetch(`${s.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body: form({
        grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(s, c.clientId, key),
      }),
    })
    assert.deepEqual(await inParallel(10, (i) => post(`203.0.113.${i}`, stranger)), [401, 401, 401, 429, 429, 429, 429, 429, 429, 429])
    assert.equal((await post('198.51.100.30', c.privateKey)).status, 200)
  })
})
