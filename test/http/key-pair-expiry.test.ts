import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { AccountId } from '../../src/domain/types.js'
import { registerWebhook } from '../../src/domain/webhooks.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf, api, tokenOf, type ApiCall } from '../helpers/management.js'
import { keymintJson, serve } from '../helpers/cli.js'
import { startAnotherInstance, startTestServer, tempDir, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

const DAY = 86400

interface Pair { client_id: string; client_secret: string; expires_at: string | null }

/** What each token endpoint answers for a pair: oauth2 with Basic and with form fields, and the header dialect. */
async function tokenAnswers(s: TestServer, pair: Pair): Promise<{ status: number; error: string | undefined }[]> {
  const basicAuth = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(pair.client_id, pair.client_secret) },
    body: form({ grant_type: 'client_credentials' }),
  })
  const posted = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ grant_type: 'client_credentials', client_id: pair.client_id, client_secret: pair.client_secret }),
  })
  const header = await fetch(`${s.url}/auth/oauth`, { method: 'POST', headers: { clientId: pair.client_id, clientSecret: pair.client_secret } })
  const answers = []
  for (const res of [basicAuth, posted, header]) {
    const text = await res.text()
    answers.push({ status: res.status, error: res.status === 200 ? undefined : (JSON.parse(text) as { error: string }).error })
  }
  return answers
}

const metric = async (s: TestServer, series: string): Promise<number | undefined> => {
  const line = (await (await fetch(`${s.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** A new admin caller: the clock moves by weeks in these tests, further than any token lives. */
const freshCall = async (s: TestServer, seed: { clientId: string; clientSecret: string }): Promise<ApiCall> => api(s, await tokenOf(s, seed))

const auditOf = async (call: ApiCall, action: string) =>
  ((await call('GET', '/audit-events?limit=200')).body.items as { action: string; target: string; reason: string | null; details: Record<string, unknown> }[])
    .filter((e) => e.action === action)

/** Outbox entries of one event type, as stored. */
const outbox = async (s: TestServer, type: string) =>
  (await s.services.database.db.selectFrom('webhook_deliveries').select(['event_type', 'payload']).where('event_type', '=', type).execute())
    .map((d) => JSON.parse(d.payload) as { type: string; data: Record<string, unknown> })

const subscribe = (s: TestServer, accountId: string) => registerWebhook(
  { store: s.services.store, clock: s.clock, sealer: s.services.sealer, policy: { allowLoopback: true } },
  { accountId: accountId as AccountId, url: 'http://127.0.0.1:9/hooks', events: ['key_pair.expiring', 'key_pair.expired'] },
)

describeEachDialect('key pairs that expire', (dialect) => {
  test('a pair is issued with its expiry; once it comes, every token endpoint refuses it like a revoked one, from memory too', async (t) => {
    const s = await startTestServer(t, dialect, { keyExpiryCheck: '1h' })
    const { seed, call } = await adminOf(s)
    const created = await call('POST', '/clients', { name: 'nightly', level: 'subscription', key_expires_in_seconds: 2 * DAY })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const pair = created.body.key_pair as Pair
    const expiresAt = new Date(s.clock.now().getTime() + 2 * DAY * 1000).toISOString()
    assert.equal(pair.expires_at, expiresAt)
    const listed = await call('GET', `/clients/${created.body.client.id}/key-pairs`)
    assert.deepEqual(listed.body.items.map((k: { state: string; expires_at: string }) => [k.state, k.expires_at]), [['active', expiresAt]])
    assert.deepEqual((await auditOf(call, 'key_pair.created')).filter((e) => e.target === created.body.client.id).map((e) => e.details), [{ client_id: pair.client_id, expires_at: expiresAt }])

    // Used before it expires: the credential is now held in memory.
    assert.deepEqual((await tokenAnswers(s, pair)).map((a) => a.status), [200, 200, 200])
    const hitsBefore = await metric(s, 'keymint_credential_lookups_total{result="hit"}') ?? 0
    s.clock.advance(2 * DAY - 1)
    assert.deepEqual((await tokenAnswers(s, pair)).map((a) => a.status), [200, 200, 200], 'one second before, it still works')
    const accessToken = await tokenOf(s, { clientId: pair.client_id, clientSecret: pair.client_secret })
    const introspect = async () => (await fetch(`${s.url}/oauth2/introspect`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(seed.clientId, seed.clientSecret) },
      body: form({ token: accessToken }),
    })).json() as Promise<{ active: boolean }>
    assert.equal((await introspect()).active, true)
    s.clock.advance(1)
    assert.deepEqual(await tokenAnswers(s, pair), [
      { status: 401, error: 'invalid_client' }, { status: 401, error: 'invalid_client' }, { status: 401, error: 'invalid_client' },
    ])
    assert.ok((await metric(s, 'keymint_credential_lookups_total{result="hit"}') ?? 0) >= hitsBefore + 6 + 3, 'refused from memory: nothing in the database changed')
    assert.equal(await metric(s, 'keymint_client_authentications_refused_total{reason="key_pair_expired"}'), 3)

    const admin = await freshCall(s, seed)
    await s.server.flushUsage()
    const refusals = (await auditOf(admin, 'authentication.refused')).filter((e) => e.reason === 'key_pair_expired')
    assert.equal(refusals.reduce((n, e) => n + ((e as unknown as { count: number }).count), 0), 3, 'audited with reason key_pair_expired')
    const after = await admin('GET', `/clients/${created.body.client.id}/key-pairs`)
    assert.deepEqual(after.body.items.map((k: { state: string; expires_at: string; revoked_at: string | null }) => [k.state, k.expires_at, k.revoked_at]), [['expired', expiresAt, null]])

    // Its tokens are refused as a revoked pair's are: inactive at introspection, in the revocation feed.
    assert.deepEqual(await introspect(), { active: false })
    const checked = await admin('POST', '/token-checks', { token: accessToken })
    assert.deepEqual([checked.body.active, checked.body.reason], [false, 'key_pair_expired'])
    const feed = await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(seed.clientId, seed.clientSecret) } })
    assert.equal(feed.status, 200)
    assert.ok(JSON.stringify(await feed.json()).includes(pair.client_id), 'in the revocation feed')
    // Revoking or rotating does not count it as ended again.
    assert.deepEqual((await admin('DELETE', `/clients/${created.body.client.id}/key-pairs`)).body, { revoked: [] })
  })

  test("an account's default and maximum: pairs get the default, the maximum caps what may be asked; too long is refused with nothing written", async (t) => {
    const s = await startTestServer(t, dialect, { keyExpiryCheck: '1h' })
    const { call } = await adminOf(s)
    const set = await call('PATCH', '/account', { default_key_expires_in_seconds: 30 * DAY, max_key_expires_in_seconds: 90 * DAY })
    assert.equal(set.status, 200, JSON.stringify(set.body))
    assert.deepEqual([set.body.default_key_expires_in_seconds, set.body.max_key_expires_in_seconds, set.body.require_admin_second_factor], [30 * DAY, 90 * DAY, false])
    const inDays = (days: number) => new Date(s.clock.now().getTime() + days * DAY * 1000).toISOString()
    const byDefault = await call('POST', '/clients', { name: 'by default', level: 'subscription' })
    assert.equal(byDefault.body.key_pair.expires_at, inDays(30))
    const asked = await call('POST', '/clients', { name: 'asked', level: 'subscription', key_expires_in_seconds: 90 * DAY })
    assert.equal(asked.body.key_pair.expires_at, inDays(90))
    const rotated = await call('POST', `/clients/${asked.body.client.id}/key-pairs`, { key_expires_in_seconds: 7 * DAY })
    assert.equal(rotated.body.key_pair.expires_at, inDays(7))
    const rotatedByDefault = await call('POST', `/clients/${asked.body.client.id}/key-pairs`)
    assert.equal(rotatedByDefault.body.key_pair.expires_at, inDays(30))

    const clientsBefore = (await call('GET', '/clients')).body.items.length
    const pairsBefore = (await call('GET', `/clients/${asked.body.client.id}/key-pairs`)).body.items
    const tooLong = await call('POST', '/clients', { name: 'too long', level: 'subscription', key_expires_in_seconds: 91 * DAY })
    assert.deepEqual([tooLong.status, tooLong.body.code], [400, 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM'])
    const rotateTooLong = await call('POST', `/clients/${asked.body.client.id}/key-pairs`, { key_expires_in_seconds: 91 * DAY, grace_seconds: 60 })
    assert.deepEqual([rotateTooLong.status, rotateTooLong.body.code], [400, 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM'])
    assert.equal((await call('GET', '/clients')).body.items.length, clientsBefore, 'no client made')
    assert.deepEqual((await call('GET', `/clients/${asked.body.client.id}/key-pairs`)).body.items, pairsBefore, 'no pair issued, none ended')

    const defaultOverMax = await call('PATCH', '/account', { default_key_expires_in_seconds: 100 * DAY })
    assert.deepEqual([defaultOverMax.status, defaultOverMax.body.code], [400, 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM'])
    const maxUnderDefault = await call('PATCH', '/account', { max_key_expires_in_seconds: 10 * DAY })
    assert.deepEqual([maxUnderDefault.status, maxUnderDefault.body.code], [400, 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM'])
    assert.deepEqual([(await call('GET', '/account')).body.default_key_expires_in_seconds, (await call('GET', '/account')).body.max_key_expires_in_seconds], [30 * DAY, 90 * DAY], 'unchanged')

    // A maximum without a default: pairs nobody asked a lifetime for live that long.
    assert.equal((await call('PATCH', '/account', { default_key_expires_in_seconds: null })).status, 200)
    assert.equal((await call('POST', '/clients', { name: 'capped', level: 'subscription' })).body.key_pair.expires_at, inDays(90))
    const cleared = await call('PATCH', '/account', { max_key_expires_in_seconds: null })
    assert.deepEqual([cleared.body.default_key_expires_in_seconds, cleared.body.max_key_expires_in_seconds], [null, null])
    assert.equal((await call('POST', '/clients', { name: 'forever', level: 'subscription' })).body.key_pair.expires_at, null)
    const changes = (await auditOf(call, 'account.updated')).map((e) => e.details)
    assert.equal(changes.length, 3, 'refused changes are not audited')
    assert.ok(changes.some((c) => JSON.stringify(c) === JSON.stringify({
      default_key_expires_in_seconds: { before: null, after: 30 * DAY }, max_key_expires_in_seconds: { before: null, after: 90 * DAY },
    })), 'audited with before and after')
  })

  const hostile = [
    { name: 'zero', path: '/clients', body: { name: 'x', level: 'subscription', key_expires_in_seconds: 0 } },
    { name: 'under an hour', path: '/clients', body: { name: 'x', level: 'subscription', key_expires_in_seconds: 3599 } },
    { name: 'over ten years', path: '/clients', body: { name: 'x', level: 'subscription', key_expires_in_seconds: 3651 * DAY } },
    { name: 'a fraction', path: '/clients', body: { name: 'x', level: 'subscription', key_expires_in_seconds: 3600.5 } },
    { name: 'a string', path: '/clients', body: { name: 'x', level: 'subscription', key_expires_in_seconds: '90d' } },
    { name: 'negative, on rotation', path: 'rotate', body: { key_expires_in_seconds: -DAY } },
    { name: 'a huge number, on rotation', path: 'rotate', body: { key_expires_in_seconds: 1e300 } },
  ] as const
  test('malformed expiries are refused with 400 and nothing written', async (t) => {
    const s = await startTestServer(t, dialect, { keyExpiryCheck: '1h' })
    const { call } = await adminOf(s)
    const client = (await call('POST', '/clients', { name: 'base', level: 'subscription' })).body.client.id as string
    const state = async () => JSON.stringify([(await call('GET', '/clients')).body, (await call('GET', `/clients/${client}/key-pairs`)).body, (await call('GET', '/account')).body])
    const before = await state()
    for (const c of hostile) {
      const res = await call('POST', c.path === 'rotate' ? `/clients/${client}/key-pairs` : c.path, c.body)
      assert.equal(res.status, 400, `${c.name}: ${JSON.stringify(res.body)}`)
      // A schema refusal (`invalid_request`) or the domain's (`KEYMINT_*`): problem JSON either way.
      assert.ok(res.body.title === 'invalid_request' || /^KEYMINT_/.test(String(res.body.code)), `${c.name}: ${JSON.stringify(res.body)}`)
    }
    for (const body of [{}, { default_key_expires_in_seconds: 59 }, { max_key_expires_in_seconds: 'never' }, { default_key_expires_in_seconds: 3600, extra: 1 }]) {
      const res = await call('PATCH', '/account', body)
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`)
    }
    for (const query of ['within_days=0', 'within_days=366', 'within_days=x', 'other=1']) {
      assert.equal((await call('GET', `/key-pairs/expiring?${query}`)).status, 400, query)
    }
    assert.equal(await state(), before)
  })

  test('reminders at 30, 7 and 1 days and at expiry: each once, audited, in the outbox, counted by the gauge; the banner lists what expires soon', async (t) => {
    const s = await startTestServer(t, dialect, { keyExpiryCheck: '1h', webhookPoll: '1h' })
    const { seed, call } = await adminOf(s)
    await subscribe(s, seed.accountId)
    const soon = await call('POST', '/clients', { name: 'soon', level: 'subscription', key_expires_in_seconds: 40 * DAY })
    await call('POST', '/clients', { name: 'later', level: 'subscription', key_expires_in_seconds: 60 * DAY })
    const pair = soon.body.key_pair as Pair
    const expiresAt = pair.expires_at
    const sweep = async () => (await s.server.sweepKeyPairExpiry())?.sent.map((x) => x.horizon) ?? []
    const gauge = async () => Promise.all(['30d', '7d', '1d'].map((h) => metric(s, `keymint_key_pairs_expiring{horizon="${h}"}`)))

    assert.deepEqual(await sweep(), [])
    assert.deepEqual(await gauge(), [0, 0, 0])
    s.clock.advance(10 * DAY)
    assert.deepEqual(await sweep(), ['30d'])
    assert.deepEqual(await sweep(), [], 'once')
    assert.deepEqual(await gauge(), [1, 0, 0])
    let admin = await freshCall(s, seed)
    const banner = await admin('GET', '/key-pairs/expiring')
    assert.deepEqual(banner.body.items, [{ client_id: pair.client_id, client: soon.body.client.id, client_name: 'soon', expires_at: expiresAt }])
    assert.deepEqual((await admin('GET', '/key-pairs/expiring?within_days=60')).body.items.map((k: { client_name: string }) => k.client_name), ['soon', 'later'])
    s.clock.advance(23 * DAY)
    assert.deepEqual(await sweep(), ['7d', '30d'], 'soonest first: the later pair is within 30 days now')
    s.clock.advance(6 * DAY + 1)
    assert.deepEqual(await sweep(), ['1d'])
    assert.deepEqual(await gauge(), [2, 1, 1])
    s.clock.advance(DAY)
    assert.deepEqual(await sweep(), ['expired'])
    assert.deepEqual(await sweep(), [])
    assert.deepEqual(await gauge(), [1, 0, 0], 'an expired pair is no longer counted')

    admin = await freshCall(s, seed)
    const reminders = (await auditOf(admin, 'key_pair.expiring')).filter((e) => e.target === soon.body.client.id).map((e) => e.details).reverse()
    assert.deepEqual(reminders, ['30d', '7d', '1d'].map((horizon) => ({ client_id: pair.client_id, horizon, expires_at: expiresAt })))
    const expired = await auditOf(admin, 'key_pair.expired')
    assert.deepEqual(expired.map((e) => [e.target, e.reason, e.details]), [[soon.body.client.id, 'key_pair_expired', { client_id: pair.client_id, expires_at: expiresAt }]])
    const sent = (await outbox(s, 'key_pair.expiring')).filter((d) => d.data.client_id === pair.client_id)
    assert.deepEqual(sent.map((d) => d.data.horizon).sort(), ['1d', '30d', '7d'])
    assert.deepEqual((await outbox(s, 'key_pair.expired')).map((d) => d.data), [{ client: soon.body.client.id, client_id: pair.client_id, expires_at: expiresAt }])
    assert.deepEqual((await admin('GET', '/key-pairs/expiring')).body.items.map((k: { client_name: string }) => k.client_name), ['later'], 'an expired pair is no longer "soon"')
  })

  test('a pair issued with less than a week to live gets the 7-day reminder only; a revoked or rotated-away pair gets none', async (t) => {
    const s = await startTestServer(t, dialect, { keyExpiryCheck: '1h' })
    const { seed, call } = await adminOf(s)
    const short = await call('POST', '/clients', { name: 'short', level: 'subscription', key_expires_in_seconds: 5 * DAY })
    const revoked = await call('POST', '/clients', { name: 'revoked', level: 'subscription', key_expires_in_seconds: 5 * DAY })
    const rotated = await call('POST', '/clients', { name: 'rotated', level: 'subscription', key_expires_in_seconds: 5 * DAY })
    assert.equal((await call('DELETE', `/clients/${revoked.body.client.id}/key-pairs`)).status, 200)
    assert.equal((await call('POST', `/clients/${rotated.body.client.id}/key-pairs`, { grace_seconds: 3600 })).status, 201)
    const first = await s.server.sweepKeyPairExpiry()
    assert.deepEqual(first?.sent.map((x) => [x.keyPairId, x.horizon]), [[short.body.key_pair.client_id, '7d']])
    s.clock.advance(10 * DAY)
    const second = await s.server.sweepKeyPairExpiry()
    assert.deepEqual(second?.sent.map((x) => [x.keyPairId, x.horizon]), [[short.body.key_pair.client_id, 'expired']], 'from 7 days straight to expired: the missed 1-day reminder is not sent late')
    const admin = await freshCall(s, seed)
    assert.deepEqual((await auditOf(admin, 'key_pair.expiring')).map((e) => e.target), [short.body.client.id])
  })

  test('two instances sweeping the same database at once send each reminder exactly once', async (t) => {
    const a = await startTestServer(t, dialect, { keyExpiryCheck: '1h', webhookPoll: '1h' })
    const b = await startAnotherInstance(t, a, { keyExpiryCheck: '1h', webhookPoll: '1h' })
    const { seed, call } = await adminOf(a)
    await subscribe(a, seed.accountId)
    const pairs: string[] = []
    for (let i = 0; i < 8; i++) {
      const created = await call('POST', '/clients', { name: `c${i}`, level: 'subscription', key_expires_in_seconds: 31 * DAY - i * 60 })
      assert.equal(created.status, 201)
      pairs.push(created.body.key_pair.client_id as string)
    }
    const sentBy: Record<string, number> = {}
    for (const step of [2 * DAY, 23 * DAY, 5 * DAY, 3 * DAY]) {
      a.clock.advance(step)
      b.clock.advance(step)
      const sweeps = [a, b, a, b].map((s) => () => s.server.sweepKeyPairExpiry())
      // PostgreSQL: all at once. SQLite serializes writers per file, and two instances in one
      // process would wait on each other's lock with the event loop blocked: one after another there.
      const swept = dialect === 'postgres' ? await Promise.all(sweeps.map((run) => run())) : await sweeps.reduce(
        async (done, run) => [...await done, await run()], Promise.resolve([] as Awaited<ReturnType<typeof sweeps[number]>>[]))
      for (const sweep of swept) for (const x of sweep?.sent ?? []) sentBy[`${x.keyPairId}:${x.horizon}`] = (sentBy[`${x.keyPairId}:${x.horizon}`] ?? 0) + 1
      if (step === 2 * DAY) {
        assert.deepEqual([await metric(a, 'keymint_key_pairs_expiring{horizon="30d"}'), await metric(b, 'keymint_key_pairs_expiring{horizon="30d"}')], [8, 8], 'each instance counts the same database')
      }
    }
    const expected = pairs.flatMap((id) => ['30d', '7d', '1d', 'expired'].map((h) => `${id}:${h}`)).sort()
    assert.deepEqual(Object.keys(sentBy).sort(), expected)
    assert.ok(Object.values(sentBy).every((n) => n === 1), JSON.stringify(sentBy))
    const admin = await freshCall(a, seed)
    const audited = [...await auditOf(admin, 'key_pair.expiring'), ...await auditOf(admin, 'key_pair.expired')]
    assert.equal(audited.length, expected.length, 'one audit event per pair and horizon')
    const queued = [...await outbox(a, 'key_pair.expiring'), ...await outbox(a, 'key_pair.expired')]
    assert.deepEqual(queued.map((d) => `${String(d.data.client_id)}:${String(d.data.horizon ?? 'expired')}`).sort(), expected, 'one outbox entry per pair and horizon')
  })
})

test('serve --workers 2: every worker sweeps; the gauge is the count, not its sum over workers', async (t) => {
  const dir = tempDir(t)
  const db = `sqlite:${dir}/k.db`
  const account = await keymintJson<{ id: string }>(['account', 'create', '--db', db, '--name', 'm'])
  for (const days of ['2d', '20d']) {
    await keymintJson(['client', 'create', '--db', db, '--account', account.id, '--name', `c${days}`, '--level', 'subscription', '--key-expires-in', days])
  }
  const server = await serve(t, ['--db', db, '--port', '0', '--workers', '2'], { env: { KEYMINT_LOG_LEVEL: 'warn' } })
  const counts = async () => {
    const text = await (await fetch(`${server.url}/metrics`, { headers: { connection: 'close' } })).text()
    return ['30d', '7d', '1d'].map((h) => text.split('\n').find((l) => l.startsWith(`keymint_key_pairs_expiring{horizon="${h}"} `))?.split(' ')[1])
  }
  // Each worker sweeps as it starts; a scrape may reach either worker, and each gathers both.
  let seen = await counts()
  for (let i = 0; i < 50 && seen[0] === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    seen = await counts()
  }
  assert.deepEqual(seen, ['2', '1', '0'])
  for (let i = 0; i < 3; i++) assert.deepEqual(await counts(), ['2', '1', '0'])
  server.child.kill('SIGTERM')
  assert.equal(await server.exited, 0)
})
