import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertJsonFailure, cliBesideServer, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { tokenOf } from '../helpers/management.js'
import type { SeededClient, TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test

const token = (s: TestServer, pair: { client_id: string; client_secret: string }) =>
  fetch(`${s.url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(pair.client_id, pair.client_secret) },
    body: form({ grant_type: 'client_credentials' }),
  })

const introspect = async (s: TestServer, caller: SeededClient, accessToken: string): Promise<boolean> => {
  const res = await fetch(`${s.url}/oauth2/introspect`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(caller.clientId, caller.clientSecret) },
    body: form({ token: accessToken }),
  })
  assert.equal(res.status, 200)
  return ((await res.json()) as { active: boolean }).active
}

const feedClients = async (s: TestServer, caller: SeededClient): Promise<string[]> => {
  const res = await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(caller.clientId, caller.clientSecret) } })
  assert.equal(res.status, 200)
  return ((await res.json()) as { clients: { client_id: string }[] }).clients.map((c) => c.client_id)
}

describeEachDialect('keymint CLI: client disable, enable, delete', (dialect) => {
  test('client disable: no tokens, and every token issued before stays inactive, also once enabled again', async (t) => {
    const { s, seed, json, run } = await cliBesideServer(t, dialect)
    const client = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'subscription'])
    const before = await tokenOf(s, { clientId: client.client_id, clientSecret: client.client_secret })
    assert.equal(await introspect(s, seed, before), true)

    const disabled = await json(['client', 'disable', '--client', client.id])
    assert.deepEqual([disabled.id, disabled.disabled], [client.id, true])
    const refused = await token(s, client)
    assert.equal(refused.status, 401)
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_client')
    assert.equal((await fetch(`${s.url}/auth/oauth`, { method: 'POST', headers: { clientId: client.client_id, clientSecret: client.client_secret } })).status, 401)
    assert.equal(await introspect(s, seed, before), false)
    assert.ok((await feedClients(s, seed)).includes(client.client_id), 'the revocation feed ends its tokens')
    assert.deepEqual(await json(['client', 'disable', '--client', client.client_id]), disabled, 'disabling twice changes nothing')

    // The server's clock moves past the CLI's cut-off, so the next token is issued after it.
    s.clock.advance(3600)
    const enabled = await json(['client', 'enable', '--client', client.id])
    assert.equal(enabled.disabled, false)
    const after = await tokenOf(s, { clientId: client.client_id, clientSecret: client.client_secret })
    assert.equal(await introspect(s, seed, after), true, 'an enabled client gets working tokens')
    assert.equal(await introspect(s, seed, before), false, 'tokens issued before the disable stay inactive for good')
    assert.ok((await feedClients(s, seed)).includes(client.client_id), 'and stay in the revocation feed')

    await s.server.flushUsage()
    const events = (await json<{ items: Json[] }>(['audit', 'list', '--account', seed.accountId])).items
    assert.deepEqual(events.filter((e) => e.action.startsWith('client.') && e.target === client.id).map((e) => [e.action, e.actor]).reverse(),
      [['client.created', 'cli'], ['client.disabled', 'cli'], ['client.enabled', 'cli']])
    const refusals = events.filter((e) => e.action === 'authentication.refused' && e.target === client.client_id)
    assert.ok(refusals.length > 0 && refusals.every((e) => e.reason === 'client_disabled'), JSON.stringify(refusals))
    assert.equal(refusals.reduce((n, e) => n + Number(e.count), 0), 2, 'both refusals, whichever dialect')
    assertJsonFailure(await run(['client', 'enable', '--client', '7d444840-9dc0-41f5-8d0a-000000000000', '--json']), 'KEYMINT_CLIENT_NOT_FOUND', 'enable unknown')
  })

  test('client delete revokes every live pair first, then the client is gone; it is audited', async (t) => {
    const { s, seed, call, json, run } = await cliBesideServer(t, dialect)
    const client = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'subscription'])
    const second = await json<Created>(['keys', 'rotate', '--client', client.id, '--grace', '10m'])
    const issued = await tokenOf(s, { clientId: client.client_id, clientSecret: client.client_secret })
    const kept = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'kept', '--level', 'subscription'])

    const deleted = await json<{ id: string; revoked: string[]; deleted_at: string }>(['client', 'delete', '--client', second.client_id])
    assert.equal(deleted.id, client.id)
    assert.deepEqual(deleted.revoked.sort(), [client.client_id, second.client_id].sort())
    for (const pair of [client, second]) assert.equal((await token(s, pair)).status, 401, 'its client_ids never authenticate again')
    assert.equal(await introspect(s, seed, issued), false, 'its tokens are inactive')
    // The server's clock moves past the CLI's revocation, which the feed lists up to its "now".
    s.clock.advance(3600)
    const feed = await feedClients(s, seed)
    assert.ok([client.client_id, second.client_id].every((id) => feed.includes(id)), 'verifiers learn of it from the revocation feed')

    for (const ref of [client.id, client.client_id]) assertJsonFailure(await run(['client', 'show', '--client', ref, '--json']), 'KEYMINT_CLIENT_NOT_FOUND', ref)
    for (const args of [['delete'], ['enable'], ['update', '--name', 'x']]) {
      assertJsonFailure(await run(['client', ...args, '--client', client.id, '--json']), 'KEYMINT_CLIENT_NOT_FOUND', args[0]!)
    }
    assertJsonFailure(await run(['keys', 'rotate', '--client', client.id, '--json']), 'KEYMINT_CLIENT_NOT_FOUND', 'no new pair for it')
    assert.equal((await call('GET', `/clients/${client.id}`)).status, 404)
    assert.deepEqual((await json<{ items: Json[] }>(['client', 'list', '--account', seed.accountId])).items.map((c) => c.id).sort(), [seed.clientRecordId, kept.id].sort())
    assert.equal((await token(s, kept)).status, 200, 'other clients are untouched')

    const events = (await json<{ items: Json[] }>(['audit', 'list', '--account', seed.accountId])).items.filter((e) => e.target === client.id)
    assert.deepEqual(events.slice(0, 2).map((e) => e.action).sort(), ['client.deleted', 'key_pair.revoked'], 'the newest two, at one time')
    const gone = events.find((e) => e.action === 'client.deleted')
    assert.deepEqual([gone?.actor, gone?.details.revoked.sort()], ['cli', deleted.revoked])
    assert.deepEqual(events.find((e) => e.action === 'key_pair.revoked')?.details.revoked.sort(), deleted.revoked)
  })
})
