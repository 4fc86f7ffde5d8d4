import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { rotateKeyPair } from '../../src/domain/key-pairs.js'
import type { AccountId } from '../../src/domain/types.js'
import { listWebhookDeliveries, registerWebhook } from '../../src/domain/webhooks.js'
import { cleanup } from '../helpers/cleanup.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf } from '../helpers/management.js'
import { seedClient, startAnotherInstance, startTestServer, type TestServer } from '../helpers/server.js'

interface Received { headers: IncomingHttpHeaders; body: string }

/** `keymint_webhook_attempts_total` by outcome, as Prometheus would scrape it. */
async function attemptsMetric(s: TestServer): Promise<Record<string, number>> {
  const text = await (await fetch(`${s.url}/metrics`)).text()
  return Object.fromEntries([...text.matchAll(/^keymint_webhook_attempts_total\{outcome="(\w+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]))
}

/** A webhook receiver on loopback that answers `status()` and keeps what it got; `down()` and `up()` on one port. */
async function receiver(t: TestContext) {
  const got: Received[] = []
  let status = 204
  let server: Server | undefined
  let port = 0
  const up = async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => { body += c.toString() })
      req.on('end', () => { got.push({ headers: req.headers, body }); res.writeHead(status).end() })
    })
    await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  }
  const down = () => new Promise<void>((resolve) => { server?.closeAllConnections(); server?.close(() => resolve()) })
  await up()
  cleanup(t, down)
  return { got, up, down, url: () => `http://127.0.0.1:${port}/hooks`, answer: (s: number) => { status = s } }
}

/**
 * A receiver that holds its first request open (the body read, no answer) until `release()`, and
 * answers every other one `204` at once; `held` settles when the first request has arrived.
 */
async function hangingReceiver(t: TestContext) {
  const got: Received[] = []
  let arrived: () => void = () => {}
  const held = new Promise<void>((resolve) => { arrived = resolve })
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      got.push({ headers: req.headers, body })
      if (got.length > 1) {
        res.writeHead(204).end()
        return
      }
      arrived()
      void released.then(() => res.writeHead(204).end())
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  // Released first, so no instance closing waits on an answer that would never come.
  cleanup(t, () => new Promise<void>((resolve) => { release(); server.closeAllConnections(); server.close(() => resolve()) }))
  return { got, held, release, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` }
}

/** Checks a delivery as a receiver would, with the Standard Webhooks scheme. */
function verify(r: Received, secret: string): { type: string; data: Record<string, unknown> } {
  const id = String(r.headers['webhook-id'])
  const timestamp = String(r.headers['webhook-timestamp'])
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  const expected = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${r.body}`).digest('base64')}`
  assert.equal(r.headers['webhook-signature'], expected, 'signature')
  assert.match(id, /^msg_/)
  assert.match(timestamp, /^\d{10}$/)
  return JSON.parse(r.body) as { type: string; data: Record<string, unknown> }
}

const register = (s: TestServer, accountId: string, url: string) => registerWebhook(
  { store: s.services.store, clock: s.clock, sealer: s.services.sealer, policy: { allowLoopback: true } },
  { accountId: accountId as AccountId, url, events: ['key_pair.rotated', 'key_pair.revoked'] },
)

describeEachDialect('webhook delivery', (dialect) => {
  test('an event is delivered once, signed with the endpoint secret; nothing is sent twice', async (t) => {
    const s = await startTestServer(t, dialect, { webhookPoll: '1h' })
    const r = await receiver(t)
    const c = await seedClient(s.services)
    const { endpoint, secret } = await register(s, c.accountId, r.url())
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/)
    const rotated = await rotateKeyPair(s.services, { clientId: c.clientRecordId })
    assert.equal(await s.server.deliverWebhooks(), 1)
    assert.equal(r.got.length, 1)
    const body = verify(r.got[0]!, secret)
    assert.equal(body.type, 'key_pair.rotated')
    assert.equal(body.data.client_id, rotated.keyPair.id)
    assert.equal(await s.server.deliverWebhooks(), 0)
    assert.equal(r.got.length, 1)
    const [delivery] = await listWebhookDeliveries(s.services, { accountId: c.accountId as AccountId, id: endpoint.id })
    assert.equal(delivery?.attempts, 1)
    assert.equal(delivery?.lastStatus, 204)
    assert.ok(delivery?.deliveredAt)
  })

  test('receiver down, then up: retried after the backoff and delivered once', async (t) => {
    const s = await startTestServer(t, dialect, { webhookPoll: '1h' })
    const r = await receiver(t)
    const c = await seedClient(s.services)
    const { endpoint, secret } = await register(s, c.accountId, r.url())
    await r.down()
    await rotateKeyPair(s.services, { clientId: c.clientRecordId })
    assert.equal(await s.server.deliverWebhooks(), 1)
    assert.equal(await s.server.deliverWebhooks(), 0, 'not due again before the backoff')
    await r.up()
    s.clock.advance(5)
    assert.equal(await s.server.deliverWebhooks(), 1)
    s.clock.advance(3600)
    assert.equal(await s.server.deliverWebhooks(), 0)
    assert.equal(r.got.length, 1)
    verify(r.got[0]!, secret)
    const [delivery] = await listWebhookDeliveries(s.services, { accountId: c.accountId as AccountId, id: endpoint.id })
    assert.deepEqual([delivery?.attempts, delivery?.lastStatus, delivery?.deliveredAt !== null], [2, 204, true])
    assert.deepEqual(await attemptsMetric(s), { delivered: 1, retry: 1, failed: 0 })
  })

  test('server restarted mid-retry: the next instance delivers it, once', async (t) => {
    const s = await startTestServer(t, dialect, { webhookPoll: '1h' })
    const r = await receiver(t)
    const c = await seedClient(s.services)
    const { secret } = await register(s, c.accountId, r.url())
    r.answer(503)
    await rotateKeyPair(s.services, { clientId: c.clientRecordId })
    assert.equal(await s.server.deliverWebhooks(), 1)
    await s.server.close()
    r.answer(200)
    const next = await startAnotherInstance(t, s, { webhookPoll: '1h' })
    next.clock.advance(60)
    assert.equal(await next.server.deliverWebhooks(), 1)
    next.clock.advance(3600)
    assert.equal(await next.server.deliverWebhooks(), 0)
    assert.equal(r.got.length, 2, 'one refused attempt, one delivery')
    assert.equal(r.got[0]?.headers['webhook-id'], r.got[1]?.headers['webhook-id'], 'one message id across attempts')
    verify(r.got[1]!, secret)
  })

  test('two instances polling the one outbox at once deliver each event once', async (t) => {
    const s = await startTestServer(t, dialect, { webhookPoll: '1h' })
    const other = await startAnotherInstance(t, s, { webhookPoll: '1h' })
    const r = await receiver(t)
    const c = await seedClient(s.services)
    await register(s, c.accountId, r.url())
    for (let i = 0; i < 5; i++) {
      s.clock.advance(1)
      await rotateKeyPair(s.services, { clientId: c.clientRecordId })
    }
    other.clock.advance(10)
    const attempted = await Promise.all([s.server.deliverWebhooks(), other.server.deliverWebhooks(), s.server.deliverWebhooks(), other.server.deliverWebhooks()])
    assert.equal(attempted.reduce((a, b) => a + b, 0), 5)
    assert.equal(r.got.length, 5)
    assert.equal(new Set(r.got.map((g) => g.headers['webhook-id'])).size, 5, 'no message twice')
  })

  test('a receiver that hangs holds up only the delivery sent to it: another instance sends the ones queued behind it, each event once', async (t) => {
    // Attempts may take two minutes: the held one is still within its timeout when the clocks move on a minute.
    const s = await startTestServer(t, dialect, { webhookPoll: '1h', webhookTimeout: '2m' })
    const other = await startAnotherInstance(t, s, { webhookPoll: '1h', webhookTimeout: '2m' })
    const r = await hangingReceiver(t)
    const c = await seedClient(s.services)
    const { endpoint, secret } = await register(s, c.accountId, r.url)
    for (let i = 0; i < 5; i++) await rotateKeyPair(s.services, { clientId: c.clientRecordId })
    // The first instance claims all five and waits on the first; a minute on, its claim on the
    // four queued behind has run out, but not its lease on the one it is sending.
    const first = s.server.deliverWebhooks()
    await r.held
    s.clock.advance(61)
    other.clock.advance(61)
    const byOther = await other.server.deliverWebhooks()
    r.release()
    const byFirst = await first
    assert.equal(await s.server.deliverWebhooks() + await other.server.deliverWebhooks(), 0, 'nothing left')
    const ids = r.got.map((g) => String(g.headers['webhook-id']))
    assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'no event received twice')
    assert.equal(new Set(ids).size, 5)
    for (const g of r.got) verify(g, secret)
    assert.deepEqual([byFirst, byOther], [1, 4], 'the first instance sent the held one; the other, those queued behind it')
    const deliveries = await listWebhookDeliveries(s.services, { accountId: c.accountId as AccountId, id: endpoint.id })
    assert.deepEqual(deliveries.map((d) => [d.attempts, d.lastStatus, d.deliveredAt !== null]), Array(5).fill([1, 204, true]))
  })

  test('revoking key pairs over the REST API sends key_pair.revoked, signed, once per revocation', async (t) => {
    const s = await startTestServer(t, dialect, { webhookPoll: '1h' })
    const r = await receiver(t)
    const { seed, call } = await adminOf(s)
    const created = await call('POST', '/clients', { name: 'nightly', level: 'subscription' })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const client = created.body.client.id as string
    const old = created.body.key_pair.client_id as string
    const rotated = await call('POST', `/clients/${client}/key-pairs`, { grace_seconds: 3600 })
    assert.equal(rotated.status, 201, JSON.stringify(rotated.body))
    const current = rotated.body.key_pair.client_id as string
    const { secret } = await register(s, seed.accountId, r.url())

    // One pair: the old one, still in its grace.
    const one = await call('DELETE', `/clients/${client}/key-pairs/${old}`)
    assert.deepEqual([one.status, one.body.revoked], [200, [old]])
    assert.deepEqual((await call('DELETE', `/clients/${client}/key-pairs/${old}`)).body.revoked, [], 'revoked already: no event')
    s.clock.advance(1)
    // Every pair the client has left.
    const all = await call('DELETE', `/clients/${client}/key-pairs`)
    assert.deepEqual([all.status, all.body.revoked], [200, [current]])

    assert.equal(await s.server.deliverWebhooks(), 2)
    assert.equal(await s.server.deliverWebhooks(), 0)
    assert.deepEqual(r.got.map((g) => verify(g, secret)).map((b) => [b.type, b.data]), [
      ['key_pair.revoked', { client, revoked: [old] }],
      ['key_pair.revoked', { client, revoked: [current] }],
    ])
  })

  test('a delivery still failing a day after its event is marked failed', async (t) => {
    const s = await startTestServer(t, dialect, { webhookPoll: '1h' })
    const r = await receiver(t)
    const c = await seedClient(s.services)
    const { endpoint } = await register(s, c.accountId, r.url())
    r.answer(500)
    await rotateKeyPair(s.services, { clientId: c.clientRecordId })
    let attempts = 0
    for (let i = 0; i < 60; i++) {
      attempts += await s.server.deliverWebhooks()
      s.clock.advance(3600)
    }
    const [delivery] = await listWebhookDeliveries(s.services, { accountId: c.accountId as AccountId, id: endpoint.id })
    assert.ok(delivery?.failedAt, 'failed')
    assert.equal(delivery?.deliveredAt, null)
    assert.equal(delivery?.attempts, attempts)
    assert.ok(attempts > 5 && attempts < 40, `backoff spaced the attempts: ${attempts}`)
    assert.ok(delivery.failedAt.getTime() - delivery.createdAt.getTime() <= 24 * 3600 * 1000)
    assert.deepEqual(await attemptsMetric(s), { delivered: 0, retry: attempts - 1, failed: 1 })
  })
})
