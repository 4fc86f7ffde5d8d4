import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { loadConfig, type ConfigInput } from '../../src/config.js'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { ensureServerKeys } from '../../src/domain/server-keys.js'
import { startServer } from '../../src/server.js'
import { openServices, type Services } from '../../src/services.js'
import { cleanup } from '../helpers/cleanup.js'
import { createTestDatabase, describeEachDialect } from '../helpers/dialects.js'
import { dpopKey, dpopProof } from '../helpers/dpop.js'
import { serve } from '../helpers/cli.js'
import { adminOf } from '../helpers/management.js'
import { seedClient, tempDir, TestClock, type SeededClient, type TestServer } from '../helpers/server.js'
import { pooledServerKeys } from '../helpers/server-keys.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { basic, form } from '../helpers/tokens.js'
import { within } from '../helpers/within.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** keymint on a PostgreSQL database of its own, reached through a proxy the test cuts and restores. */
async function behindProxy(t: TestContext, overrides: ConfigInput = {}): Promise<TestServer & { proxy: TcpProxy; direct: Services }> {
  const db = await createTestDatabase(t, 'postgres', tempDir(t), { migrated: true })
  const target = new URL(db.url)
  const proxy = await startTcpProxy(t, { host: target.hostname, port: Number(target.port || 5432) })
  const masterKey = generateMasterKey()
  // Seeding goes straight to the database, so it works while the proxy is cut.
  const direct = await openServices(loadConfig({ db: db.url }, { KEYMINT_MASTER_KEY: masterKey }))
  cleanup(t, () => direct.close())
  const config = loadConfig({ db: proxy.through(db.url), port: 0, logLevel: 'silent', ...overrides }, { KEYMINT_MASTER_KEY: masterKey })
  const clock = new TestClock()
  const services: Services = { ...await openServices(config), clock }
  await ensureServerKeys({ ...services, generator: pooledServerKeys }, config.tokens.signingAlg)
  const server = await startServer(config, { services, sleep: (ms) => clock.sleep(ms) })
  cleanup(t, () => server.close())
  return { url: server.url, server, services, config, clock, proxy, direct }
}

/**
 * A key pair written past the instance, which has then caught up with the change feed: what it
 * caches from here on is not forgotten by an announcement (or a first connect) arriving late.
 */
async function seedSeen(s: TestServer & { direct: Services }): Promise<SeededClient> {
  const seeded = await seedClient(s.direct)
  await s.server.syncChanges()
  return seeded
}

interface Reply { status: number; type: string; retryAfter: string | null; body: Record<string, unknown> }

/** Long enough for any answer under load; a request left unanswered fails its test instead of stalling the run. */
const ANSWER_WITHIN_MS = 20_000

async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) }).catch((err: unknown) => {
    throw new Error(`${init.method ?? 'GET'} ${new URL(url).pathname}: no answer within ${ANSWER_WITHIN_MS} ms`, { cause: err })
  })
  const text = await res.text()
  let body: Record<string, unknown> = {}
  try { body = JSON.parse(text) as Record<string, unknown> } catch { body = { text } }
  return { status: res.status, type: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after'), body }
}

const oauth2 = (url: string, c: { clientId: string; clientSecret: string }) => call(`${url}/oauth2/token`, {
  method: 'POST', headers: FORM, body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }),
})
const header = (url: string, c: { clientId: string; clientSecret: string }) => call(`${url}/auth/oauth`, {
  method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret },
})

function assertUnavailable(reply: Reply, what: string, format: 'oauth' | 'problem'): void {
  assert.equal(reply.status, 503, `${what}: ${JSON.stringify(reply.body)}`)
  assert.ok(Number(reply.retryAfter) > 0, `${what}: Retry-After`)
  if (format === 'oauth') assert.equal(reply.body.error, 'temporarily_unavailable', what)
  else assert.deepEqual([reply.type.split(';')[0], reply.body.title, reply.body.status], ['application/problem+json', 'temporarily_unavailable', 503], what)
}

/** A hung outage test fails alone, with its name, and the rest of its file still runs. */
const BOUNDED = { timeout: 120_000 }

describeEachDialect('a database outage', (dialect) => {
  if (dialect !== 'postgres') return

  test('key pairs held in memory keep getting tokens; what needs the database gets 503; /readyz says why; service resumes by itself', BOUNDED, async (t) => {
    const s = await behindProxy(t)
    const cached = await seedSeen(s)
    const unseen = await seedSeen(s)
    const admin = await adminOf(s)
    assert.equal((await oauth2(s.url, cached)).status, 200)
    const issued = await oauth2(s.url, cached)
    assert.equal((await admin.call('GET', '/account')).status, 200)

    s.proxy.cut()
    for (const [name, reply] of [['oauth2', await oauth2(s.url, cached)], ['header', await header(s.url, cached)]] as const) {
      assert.equal(reply.status, 200, `${name}: ${JSON.stringify(reply.body)}`)
    }
    const introspected = await call(`${s.url}/oauth2/introspect`, {
      method: 'POST', headers: { ...FORM, authorization: basic(cached.clientId, cached.clientSecret) }, body: form({ token: String(issued.body.access_token) }),
    })
    assert.deepEqual([introspected.status, introspected.body.active], [200, true], 'introspection runs from memory too')
    // Until the runtime notices (a failed read, the listener, a poll), then from memory for up to 5 minutes.
    await within(5000, 'the cached pair is served after the outage is noticed', async () => {
      const ready = await call(`${s.url}/readyz`)
      return ready.body.status === 'degraded'
    })
    assert.equal((await oauth2(s.url, cached)).status, 200, 'still, once the outage is known')
    // A DPoP proof's id must reach the shared database, or another instance could accept it again.
    const proof = await dpopProof(await dpopKey(), { htu: `${s.url}/oauth2/token`, iat: Math.floor(s.clock.now().getTime() / 1000) })
    assertUnavailable(await call(`${s.url}/oauth2/token`, {
      method: 'POST', headers: { ...FORM, dpop: proof }, body: form({ grant_type: 'client_credentials', client_id: cached.clientId, client_secret: cached.clientSecret }),
    }), 'a DPoP token request', 'oauth')

    assertUnavailable(await oauth2(s.url, unseen), 'a key pair never seen', 'oauth')
    assertUnavailable(await header(s.url, unseen), 'a key pair never seen, header dialect', 'oauth')
    assertUnavailable(await admin.call('GET', '/account').then((r) => ({ status: r.status, type: r.headers.get('content-type') ?? '', retryAfter: r.headers.get('retry-after'), body: r.body })), 'the management API', 'problem')
    const ready = await call(`${s.url}/readyz`)
    assert.equal(ready.status, 200)
    assert.match(String(ready.body.reason), /database unreachable since .*; the \d+ key pairs held in memory get tokens until /)

    // Nothing answers 500 while the database is away.
    const probes: [string, RequestInit][] = [
      ['/oauth2/token', { method: 'POST', headers: FORM, body: form({ grant_type: 'client_credentials', client_id: unseen.clientId, client_secret: 'x'.repeat(43) }) }],
      ['/oauth2/introspect', { method: 'POST', headers: { ...FORM, authorization: basic(unseen.clientId, unseen.clientSecret) }, body: form({ token: 'abc' }) }],
      ['/oauth2/revoke', { method: 'POST', headers: { ...FORM, authorization: basic(cached.clientId, cached.clientSecret) }, body: form({ token: String(issued.body.access_token) }) }],
      ['/api/v1/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@example.com', password: 'correct horse battery staple' }) }],
      ['/api/v1/users', { headers: { authorization: 'Bearer abc' } }],
      ['/.well-known/jwks.json', {}],
      ['/.well-known/oauth-authorization-server', {}],
      ['/metrics', {}],
      ['/healthz', {}],
    ]
    for (const [path, init] of probes) {
      const reply = await call(`${s.url}${path}`, init)
      assert.ok(reply.status < 500 || reply.status === 503, `${path}: ${reply.status} ${JSON.stringify(reply.body)}`)
      if (reply.status === 503) assert.ok(Number(reply.retryAfter) > 0, `${path}: Retry-After`)
    }

    s.proxy.restore()
    await within(10_000, 'a key pair never seen gets its token once the database is back', async () => (await oauth2(s.url, unseen)).status === 200)
    await within(5000, '/readyz is ready again', async () => (await call(`${s.url}/readyz`)).body.status === 'ready')
    assert.equal((await admin.call('GET', '/account')).status, 200)
  })

  test('a database that stops answering without a word: 503 within seconds for what needs it, tokens from memory meanwhile', BOUNDED, async (t) => {
    const s = await behindProxy(t)
    const cached = await seedSeen(s)
    const unseen = await seedSeen(s)
    assert.equal((await oauth2(s.url, cached)).status, 200)
    s.proxy.stall()
    const startedAt = Date.now()
    assertUnavailable(await oauth2(s.url, unseen), 'a key pair never seen', 'oauth')
    const waited = Date.now() - startedAt
    assert.ok(waited < ANSWER_WITHIN_MS / 2, `answered after ${waited} ms`)
    assertUnavailable(await header(s.url, unseen), 'again, once the silence is known', 'oauth')
    assert.equal((await oauth2(s.url, cached)).status, 200, 'a pair held in memory')
    await within(5000, '/readyz says why', async () => (await call(`${s.url}/readyz`)).body.status === 'degraded')
    s.proxy.restore()
    await within(20_000, 'tokens for the pair never seen once the database answers again', async () => (await oauth2(s.url, unseen)).status === 200)
  })

  test('serve, alone or with workers, stops within KEYMINT_SHUTDOWN_TIMEOUT while its database is silent, and says what was lost', BOUNDED, async (t) => {
    const dir = tempDir(t)
    const db = await createTestDatabase(t, 'postgres', dir, { migrated: true })
    const target = new URL(db.url)
    const masterKey = generateMasterKey()
    const direct = await openServices(loadConfig({ db: db.url }, { KEYMINT_MASTER_KEY: masterKey }))
    cleanup(t, () => direct.close())
    const seeded = await seedClient(direct)
    for (const workers of [[], ['--workers', '2']]) {
      const proxy = await startTcpProxy(t, { host: target.hostname, port: Number(target.port || 5432) })
      const server = await serve(t, ['--db', proxy.through(db.url), '--port', '0', ...workers], { cwd: dir, env: { KEYMINT_MASTER_KEY: masterKey, KEYMINT_SHUTDOWN_TIMEOUT: '2s' } })
      // Token counts and last uses, held in memory until the stop writes them.
      for (let i = 0; i < 4; i++) assert.equal((await oauth2(server.url, seeded)).status, 200)
      proxy.stall()
      server.child.kill('SIGTERM')
      assert.equal(await server.exited, 1, `${workers.join(' ')}: ${server.output()}`)
      assert.match(server.output(), /the stop did not finish within 2 s \(KEYMINT_SHUTDOWN_TIMEOUT\); exiting without it: token counts and last uses not yet written are lost/)
    }
  })

  test('KEYMINT_CACHE_MAX_STALE=0: without its database the instance gives no token, and /readyz answers 503', BOUNDED, async (t) => {
    const s = await behindProxy(t, { cacheMaxStale: '0' })
    const cached = await seedSeen(s)
    assert.equal((await oauth2(s.url, cached)).status, 200)
    s.proxy.cut()
    await within(5000, 'the cached pair is refused', async () => (await oauth2(s.url, cached)).status === 503)
    assertUnavailable(await oauth2(s.url, cached), 'the cached pair', 'oauth')
    const ready = await call(`${s.url}/readyz`)
    assert.deepEqual([ready.status, ready.body.status], [503, 'unavailable'])
    assert.match(String(ready.body.reason), /KEYMINT_CACHE_MAX_STALE is 0/)
    s.proxy.restore()
    await within(10_000, 'tokens again once the database is back', async () => (await oauth2(s.url, cached)).status === 200)
  })

  test('a short KEYMINT_CACHE_MAX_STALE: cached pairs get tokens for that long, then 503', BOUNDED, async (t) => {
    const s = await behindProxy(t, { cacheMaxStale: '3s' })
    const cached = await seedSeen(s)
    assert.equal((await oauth2(s.url, cached)).status, 200)
    s.proxy.cut()
    const cutAt = Date.now()
    const first = await oauth2(s.url, cached)
    assert.equal(first.status, 200, JSON.stringify(first.body))
    await within(8000, 'the cached pair is refused once the limit has passed', async () => (await oauth2(s.url, cached)).status === 503)
    // Known fresh as of the last heartbeat before the cut: every 250 ms, later on a loaded machine.
    assert.ok(Date.now() - cutAt >= 1000, 'not before the limit (less the heartbeat it was last known fresh by)')
  })
})
