import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AuditEvent } from '../../src/domain/audit.js'
import type { AccountId } from '../../src/domain/types.js'
import { listWebhookDeliveries, registerWebhook } from '../../src/domain/webhooks.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf, type ApiCall } from '../helpers/management.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { form } from '../helpers/tokens.js'

// Per-client rate limits and quotas (issue 15, item 4) over real HTTP, with the clock moved by the
// test for window rollovers.

interface Pair { readonly client_id: string; readonly client_secret: string }
interface Answer { readonly status: number; readonly headers: Headers; readonly body: Record<string, unknown> | string }

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

async function answer(res: Response): Promise<Answer> {
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) as Record<string, unknown> : text }
}

/** A token through the OAuth 2.0 dialect (client_secret_post). */
const oauth2 = async (s: TestServer, p: Pair): Promise<Answer> => answer(await fetch(`${s.url}/oauth2/token`, {
  method: 'POST', headers: FORM, body: form({ grant_type: 'client_credentials', client_id: p.client_id, client_secret: p.client_secret }),
}))

/** A token through the header dialect (subscription-level: /auth/oauth). */
const headerDialect = async (s: TestServer, p: Pair): Promise<Answer> => answer(await fetch(`${s.url}/auth/oauth`, {
  method: 'POST', headers: { clientId: p.client_id, clientSecret: p.client_secret },
}))

/** Moves the clock to `offsetMs` past the start of the next window of `sizeMs`, so Retry-After is exact. */
function alignClock(s: TestServer, sizeMs: number, offsetMs = 1000): void {
  const now = s.clock.now().getTime()
  s.clock.advance((sizeMs - (now % sizeMs) + offsetMs) / 1000)
}

async function createLimited(call: ApiCall, limits: Record<string, unknown>, name = 'limited'): Promise<{ id: string; pair: Pair }> {
  const created = await call('POST', '/clients', { name, level: 'subscription', scopes: ['orders:read'], ...limits })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  return { id: created.body.client.id as string, pair: created.body.key_pair as Pair }
}

const reachedEvents = async (s: TestServer, clientId: string): Promise<AuditEvent[]> => {
  await s.server.flushUsage()
  return (await s.services.store.audit.list({ limit: 1000 })).filter((e) => e.action === 'client.limit_reached' && e.target === clientId)
}

async function overruns(s: TestServer, limit: 'rate' | 'quota', mode: 'enforce' | 'monitor'): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text()
  const series = `keymint_client_limit_overruns_total{limit="${limit}",mode="${mode}"} `
  const line = text.split('\n').find((l) => l.startsWith(series))
  assert.ok(line, `${series} is exposed`)
  return Number(line.slice(series.length))
}

function assertRefused(a: Answer, error: string, retryAfter: number, what: string): void {
  assert.equal(a.status, 429, `${what}: ${JSON.stringify(a.body)}`)
  assert.equal(a.headers.get('retry-after'), String(retryAfter), `${what}: Retry-After`)
  assert.equal(a.headers.get('cache-control'), 'no-store')
  assert.equal(typeof a.body, 'object', `${what}: a JSON body`)
  const body = a.body as Record<string, unknown>
  assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'])
  assert.equal(body.error, error, what)
}

describeEachDialect('client rate limits', (dialect) => {
  test('enforce: over the limit both dialects answer 429 rate_limit_exceeded with Retry-After, until the next window', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    alignClock(s, 60_000)
    const limited = await createLimited(call, { rate_limit: { requests: 3, per: 'minute' } })
    assert.equal((await oauth2(s, limited.pair)).status, 200)
    assert.equal((await headerDialect(s, limited.pair)).status, 200)
    assert.equal((await oauth2(s, limited.pair)).status, 200)
    const refused = await oauth2(s, limited.pair)
    assertRefused(refused, 'rate_limit_exceeded', 59, 'the 4th request of the minute')
    assert.match(String((refused.body as Record<string, unknown>).error_description), /rate limit of 3 token requests per minute/)
    assertRefused(await headerDialect(s, limited.pair), 'rate_limit_exceeded', 59, 'the header dialect counts against the same limit')

    const unlimited = await createLimited(call, {}, 'unlimited')
    for (let i = 0; i < 6; i++) assert.equal((await oauth2(s, unlimited.pair)).status, 200, 'a client without limits is not limited')

    s.clock.advance(59)
    assert.equal((await oauth2(s, limited.pair)).status, 200, 'the next minute starts a new window')
    assert.equal(await overruns(s, 'rate', 'enforce'), 2)
    const events = await reachedEvents(s, limited.id)
    assert.equal(events.length, 1, 'one audit event for the window, however many refusals')
    assert.equal(events[0]?.reason, 'rate_limit_reached')
    assert.equal(events[0]?.actor, `client:${limited.pair.client_id}`)
    assert.deepEqual({ ...events[0]?.details, window_start: undefined, window_end: undefined }, {
      limit: 'rate', mode: 'enforce', value: '3 token requests per minute', client_id: limited.pair.client_id, window_start: undefined, window_end: undefined,
    })
  })

  test('monitor: every request gets its token; overruns are counted, audited once per window and put in the webhook outbox', async (t) => {
    const s = await startTestServer(t, dialect, { webhookPoll: '1h' })
    const { seed, call } = await adminOf(s)
    const { endpoint } = await registerWebhook(
      { store: s.services.store, clock: s.clock, sealer: s.services.sealer, policy: { allowLoopback: true } },
      { accountId: seed.accountId as AccountId, url: 'http://127.0.0.1:9/hooks', events: ['client.rate_limit_reached', 'client.quota_reached'] },
    )
    alignClock(s, 60_000)
    const limited = await createLimited(call, { rate_limit: { requests: 2, per: 'minute' }, quota_mode: 'monitor' })
    for (let i = 0; i < 5; i++) assert.equal((await oauth2(s, limited.pair)).status, 200, `request ${i + 1}`)
    assert.equal(await overruns(s, 'rate', 'monitor'), 3)
    assert.equal(await overruns(s, 'rate', 'enforce'), 0)
    assert.equal((await reachedEvents(s, limited.id)).length, 1)
    s.clock.advance(60)
    for (let i = 0; i < 3; i++) assert.equal((await headerDialect(s, limited.pair)).status, 200)
    const events = await reachedEvents(s, limited.id)
    assert.equal(events.length, 2, 'one more for the next window')
    assert.ok(events.every((e) => e.details.mode === 'monitor'))
    const deliveries = await listWebhookDeliveries(s.services, { accountId: seed.accountId as AccountId, id: endpoint.id })
    assert.equal(deliveries.length, 2)
    const payload = JSON.parse(deliveries[0]!.payload) as { type: string; data: Record<string, unknown> }
    assert.equal(payload.type, 'client.rate_limit_reached')
    assert.equal(payload.data.client, limited.id)
    assert.equal(payload.data.limit, 'rate')
    assert.equal(payload.data.mode, 'monitor')
  })

  test('a limit changed or removed applies to the next request', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    alignClock(s, 3_600_000)
    const limited = await createLimited(call, { rate_limit: { requests: 1, per: 'hour' } })
    assert.equal((await oauth2(s, limited.pair)).status, 200)
    assertRefused(await oauth2(s, limited.pair), 'rate_limit_exceeded', 3599, 'one per hour')
    const monitored = await call('PATCH', `/clients/${limited.id}`, { quota_mode: 'monitor' })
    assert.equal(monitored.status, 200, JSON.stringify(monitored.body))
    assert.equal((await oauth2(s, limited.pair)).status, 200, 'monitor lets it through')
    const enforced = await call('PATCH', `/clients/${limited.id}`, { quota_mode: 'enforce' })
    assert.equal(enforced.status, 200)
    assert.equal((await oauth2(s, limited.pair)).status, 429)
    const removed = await call('PATCH', `/clients/${limited.id}`, { rate_limit: null })
    assert.equal(removed.status, 200)
    assert.equal(removed.body.rate_limit, null)
    assert.equal((await oauth2(s, limited.pair)).status, 200, 'without a limit')
    const updated = (await s.services.store.audit.list({ limit: 100 })).filter((e) => e.action === 'client.updated' && e.target === limited.id)
    assert.deepEqual(updated.find((e) => (e.details.fields as string[]).includes('rateLimit'))?.details, { fields: ['rateLimit'], rate_limit: null, quota: null, quota_mode: 'enforce' }, 'the audit log says what the limits became')
  })
})

describeEachDialect('client quotas', (dialect) => {
  test('enforce: over the quota both dialects answer 429 quota_exceeded until the UTC day ends', async (t) => {
    const s = await startTestServer(t, dialect)
    alignClock(s, 86_400_000, 3_600_000)
    const { call } = await adminOf(s)
    const limited = await createLimited(call, { quota: { tokens: 3, per: 'day' } })
    for (let i = 0; i < 2; i++) assert.equal((await oauth2(s, limited.pair)).status, 200)
    assert.equal((await headerDialect(s, limited.pair)).status, 200)
    const refused = await oauth2(s, limited.pair)
    assertRefused(refused, 'quota_exceeded', 23 * 3600, 'the 4th token of the day')
    assert.match(String((refused.body as Record<string, unknown>).error_description), /quota of 3 tokens per day is used up until \d{4}-\d\d-\d\dT00:00:00\.000Z/)
    assertRefused(await headerDialect(s, limited.pair), 'quota_exceeded', 23 * 3600, 'the header dialect')
    await s.server.flushUsage()
    assertRefused(await oauth2(s, limited.pair), 'quota_exceeded', 23 * 3600, 'still, once the counts are written and read back')
    s.clock.advance(23 * 3600)
    assert.equal((await oauth2(s, limited.pair)).status, 200, 'a new day')
    assert.equal(await overruns(s, 'quota', 'enforce'), 3)
    const events = await reachedEvents(s, limited.id)
    assert.deepEqual(events.map((e) => [e.reason, e.details.limit, e.details.value]), [['quota_reached', 'quota', '3 tokens per day']])
    const counted = await s.services.store.clientUsage.listTokenCounts([limited.id as never], 0)
    assert.equal(counted.reduce((sum, c) => sum + c.tokens, 0), 4, 'refused requests are not counted')
  })

  test('a monthly quota in monitor mode: tokens keep coming, the overrun is audited once', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const limited = await createLimited(call, { quota: { tokens: 2, per: 'month' }, rate_limit: { requests: 1000, per: 'second' }, quota_mode: 'monitor' })
    for (let i = 0; i < 5; i++) assert.equal((await oauth2(s, limited.pair)).status, 200)
    assert.equal(await overruns(s, 'quota', 'monitor'), 3)
    assert.equal(await overruns(s, 'rate', 'monitor'), 0)
    assert.deepEqual((await reachedEvents(s, limited.id)).map((e) => e.details.limit), ['quota'])
  })
})

describeEachDialect('client limits in the management API', (dialect) => {
  const hostile: readonly { name: string; body: Record<string, unknown> }[] = [
    { name: 'zero requests', body: { rate_limit: { requests: 0, per: 'minute' } } },
    { name: 'negative requests', body: { rate_limit: { requests: -5, per: 'minute' } } },
    { name: 'fractional requests', body: { rate_limit: { requests: 1.5, per: 'minute' } } },
    { name: 'a rate limit per day', body: { rate_limit: { requests: 600, per: 'day' } } },
    { name: 'a rate limit without its window', body: { rate_limit: { requests: 600 } } },
    { name: 'a rate limit with an extra field', body: { rate_limit: { requests: 600, per: 'minute', burst: 10 } } },
    { name: 'a rate limit as CLI text', body: { rate_limit: '600/m' } },
    { name: 'a quota above the largest', body: { quota: { tokens: 10_000_000_000, per: 'month' } } },
    { name: 'a quota per year', body: { quota: { tokens: 5, per: 'year' } } },
    { name: 'an unknown mode', body: { quota_mode: 'block' } },
    { name: 'a null mode', body: { quota_mode: null } },
  ]

  test('limits are set on create, read back, changed and cleared', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const created = await createLimited(call, { rate_limit: { requests: 600, per: 'minute' }, quota: { tokens: 100_000, per: 'month' }, quota_mode: 'monitor' })
    const read = await call('GET', `/clients/${created.id}`)
    assert.deepEqual([read.body.rate_limit, read.body.quota, read.body.quota_mode], [{ requests: 600, per: 'minute' }, { tokens: 100_000, per: 'month' }, 'monitor'])
    const cleared = await call('PATCH', `/clients/${created.id}`, { quota: null, rate_limit: { requests: 10, per: 'second' } })
    assert.deepEqual([cleared.body.rate_limit, cleared.body.quota, cleared.body.quota_mode], [{ requests: 10, per: 'second' }, null, 'monitor'])
    const plain = await createLimited(call, {}, 'plain')
    const plainRead = await call('GET', `/clients/${plain.id}`)
    assert.deepEqual([plainRead.body.rate_limit, plainRead.body.quota, plainRead.body.quota_mode], [null, null, 'enforce'], 'no limits by default')
    const audit = (await s.services.store.audit.list({ limit: 100 })).find((e) => e.action === 'client.created' && e.target === created.id)
    assert.deepEqual([audit?.details.rate_limit, audit?.details.quota, audit?.details.quota_mode], [{ requests: 600, per: 'minute' }, { tokens: 100_000, per: 'month' }, 'monitor'])
  })

  test('hostile limit values are refused with 400 on create and change, and nothing is written', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const existing = await createLimited(call, { rate_limit: { requests: 5, per: 'minute' } })
    const before = await call('GET', `/clients/${existing.id}`)
    const count = (await call('GET', '/clients')).body.items.length
    for (const c of hostile) {
      const patched = await call('PATCH', `/clients/${existing.id}`, c.body)
      assert.equal(patched.status, 400, `${c.name}: ${JSON.stringify(patched.body)}`)
      assert.equal(patched.body.title, 'invalid_request', c.name)
      const created = await call('POST', '/clients', { name: 'x', level: 'subscription', ...c.body })
      assert.equal(created.status, 400, `${c.name}: ${JSON.stringify(created.body)}`)
    }
    assert.deepEqual((await call('GET', `/clients/${existing.id}`)).body, before.body, 'the client is unchanged')
    assert.equal((await call('GET', '/clients')).body.items.length, count, 'no client was created')
  })
})
