import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertJsonFailure, cliBesideServer, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { form } from '../helpers/tokens.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test

const token = (url: string, pair: { client_id: string; client_secret: string }, userAgent: string) =>
  fetch(`${url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': userAgent },
    body: form({ grant_type: 'client_credentials', client_id: pair.client_id, client_secret: pair.client_secret }),
  })

describeEachDialect('keymint CLI: client limits and last use', (dialect) => {
  test('client create and update set, show and clear rate limits and quotas, audited', async (t) => {
    const { seed, call, json, run } = await cliBesideServer(t, dialect)
    const created = await json<Created & Json>(['client', 'create', '--account', seed.accountId, '--name', 'metered', '--level', 'subscription',
      '--rate-limit', '600/m', '--quota', '100000/month', '--quota-mode', 'monitor'])
    assert.deepEqual([created.rate_limit, created.quota, created.quota_mode], [{ requests: 600, per: 'minute' }, { tokens: 100000, per: 'month' }, 'monitor'])
    assert.deepEqual((await call('GET', `/clients/${created.id}`)).body.rate_limit, { requests: 600, per: 'minute' }, 'what the API shows')

    const human = await run(['client', 'show', '--client', created.id])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /rate limit: 600 token requests per minute per instance/)
    assert.match(human.stdout, /quota: 100000 tokens per month \(UTC\)/)
    assert.match(human.stdout, /limits: monitored only/)

    const changed = await json(['client', 'update', '--client', created.client_id, '--rate-limit', '10/s', '--quota', '5000/day', '--quota-mode', 'enforce'])
    assert.deepEqual([changed.rate_limit, changed.quota, changed.quota_mode], [{ requests: 10, per: 'second' }, { tokens: 5000, per: 'day' }, 'enforce'])
    const hourly = await json(['client', 'update', '--client', created.id, '--rate-limit', '3600/hour'])
    assert.deepEqual(hourly.rate_limit, { requests: 3600, per: 'hour' })
    const cleared = await json(['client', 'update', '--client', created.id, '--rate-limit', 'none', '--quota', 'NONE'])
    assert.deepEqual([cleared.rate_limit, cleared.quota, cleared.quota_mode], [null, null, 'enforce'])
    const plain = await json<Created & Json>(['client', 'create', '--account', seed.accountId, '--name', 'plain', '--level', 'subscription'])
    assert.deepEqual([plain.rate_limit, plain.quota, plain.quota_mode], [null, null, 'enforce'], 'no limits unless asked for')

    const updates = (await json<{ items: Json[] }>(['audit', 'list', '--account', seed.accountId])).items.filter((e) => e.action === 'client.updated' && e.target === created.id)
    assert.equal(updates.length, 3, 'one audit event per update')
    assert.deepEqual(updates.find((e) => e.details.fields.includes('quota') && e.details.quota === null)?.details.rate_limit, null, 'the audit log says what the limits became')
  })

  test('malformed limits are refused clearly, on create and update, with nothing written', async (t) => {
    const { seed, call, json, run } = await cliBesideServer(t, dialect)
    const created = await json<Created & Json>(['client', 'create', '--account', seed.accountId, '--name', 'metered', '--level', 'subscription', '--rate-limit', '5/s'])
    const clients = async () => (await call('GET', '/clients')).body.items.length as number
    const before = await clients()
    const refusals: { args: string[]; says: RegExp; create?: boolean }[] = [
      { args: ['--rate-limit', '600'], says: /rate limit "600".*600\/m/, create: true },
      { args: ['--rate-limit', '600/d'], says: /rate limit/ },
      { args: ['--rate-limit', '0/m'], says: /rate limit must be a whole number from 1/, create: true },
      { args: ['--rate-limit', '1.5/m'], says: /rate limit/ },
      { args: ['--rate-limit', '10000000000/m'], says: /rate limit/ },
      { args: ['--quota', '100000/m'], says: /quota "100000\/m".*100000\/month/, create: true },
      { args: ['--quota', '100000/year'], says: /quota/ },
      { args: ['--quota', '0/day'], says: /quota must be a whole number from 1/ },
      { args: ['--quota-mode', 'block'], says: /quota mode must be one of: enforce, monitor/, create: true },
      { args: ['--quota-mode', ''], says: /quota mode/ },
    ]
    for (const r of refusals) {
      const failure = assertJsonFailure(await run(['client', 'update', '--client', created.id, ...r.args, '--json']), 'KEYMINT_INVALID_INPUT', r.args.join(' '))
      assert.match(failure.message, r.says, r.args.join(' '))
      if (r.create) assertJsonFailure(await run(['client', 'create', '--account', seed.accountId, '--name', 'x', '--level', 'subscription', ...r.args, '--json']), 'KEYMINT_INVALID_INPUT', `create ${r.args.join(' ')}`)
    }
    assert.deepEqual((await call('GET', `/clients/${created.id}`)).body.rate_limit, { requests: 5, per: 'second' }, 'refused updates changed nothing')
    assert.equal(await clients(), before, 'refused creates made nothing')
    const updates = (await json<{ items: Json[] }>(['audit', 'list', '--account', seed.accountId])).items.filter((e) => e.action === 'client.updated')
    assert.equal(updates.length, 0, 'nothing audited')
  })

  test('keys list shows the last use with its address and User-Agent, in the table and in --json', async (t) => {
    const { s, seed, json, run } = await cliBesideServer(t, dialect)
    const client = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'subscription'])
    const before = await json<{ items: Json[] }>(['keys', 'list', '--client', client.id])
    assert.deepEqual([before.items[0]?.last_used_at, before.items[0]?.last_used_address, before.items[0]?.last_used_user_agent], [null, null, null])
    assert.equal((await token(s.url, client, 'deploy-bot/1.2 (+https://ci.example.com)')).status, 200)
    await s.server.flushUsage()
    const listed = await json<{ items: Json[] }>(['keys', 'list', '--client', client.client_id])
    assert.match(String(listed.items[0]?.last_used_address), /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/)
    assert.equal(listed.items[0]?.last_used_user_agent, 'deploy-bot/1.2 (+https://ci.example.com)')
    assert.equal(listed.items[0]?.last_used_at, s.clock.now().toISOString())
    const table = await run(['keys', 'list', '--client', client.id])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, new RegExp(`last used ${s.clock.now().toISOString().replace(/\./g, '\\.')} from \\S+ \\("deploy-bot/1\\.2 \\(\\+https://ci\\.example\\.com\\)"\\)`))
  })
})
