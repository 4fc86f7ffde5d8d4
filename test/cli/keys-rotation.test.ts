import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertJsonFailure, cliBesideServer, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import type { TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

const tokenStatus = async (s: TestServer, pair: Created): Promise<number> => (await fetch(`${s.url}/oauth2/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(pair.client_id, pair.client_secret) },
  body: form({ grant_type: 'client_credentials' }),
})).status

describeEachDialect('keymint keys finish and keys cancel', (dialect) => {
  test('finish ends the grace now; cancel revokes the newest pair and the one it replaced works again', async (t) => {
    const { s, seed, json } = await cliBesideServer(t, dialect)
    const client = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'subscription'])
    const second = await json<Created>(['keys', 'rotate', '--client', client.id, '--grace', '1h'])
    assert.deepEqual([await tokenStatus(s, client), await tokenStatus(s, second)], [200, 200])
    const finished = await json(['keys', 'finish', '--client', second.client_id])
    assert.deepEqual(finished, { client: client.id, kept: second.client_id, revoked: [client.client_id] })
    // The server's clock stands still; it moves past the CLI's writes, made at the real time.
    s.clock.advance(60)
    assert.deepEqual([await tokenStatus(s, client), await tokenStatus(s, second)], [401, 200])

    const third = await json<Created>(['keys', 'rotate', '--client', client.id, '--grace', '1h'])
    const cancelled = await json(['keys', 'cancel', '--client', client.id])
    assert.deepEqual(cancelled, { client: client.id, revoked: [third.client_id], restored: second.client_id })
    s.clock.advance(60)
    assert.deepEqual([await tokenStatus(s, second), await tokenStatus(s, third)], [200, 401])
    s.clock.advance(7200)
    assert.equal(await tokenStatus(s, second), 200, 'active again, with no end')
    const listed = await json<{ items: { client_id: string; state: string; expires_at: string | null }[] }>(['keys', 'list', '--client', client.id])
    assert.deepEqual(listed.items.map((p) => [p.client_id, p.state]), [[third.client_id, 'revoked'], [second.client_id, 'active'], [client.client_id, 'revoked']])
    const events = (await json<{ items: { action: string; actor: string; target: string }[] }>(['audit', 'list', '--account', seed.accountId])).items
    assert.deepEqual(events.filter((e) => e.action.startsWith('key_pair.rotation_')).map((e) => [e.action, e.actor, e.target]),
      [['key_pair.rotation_cancelled', 'cli', client.id], ['key_pair.rotation_finished', 'cli', client.id]])
  })

  test('both refuse when no rotation is in progress or the client is unknown: one line, a stable code, nothing written', async (t) => {
    const { seed, json, run } = await cliBesideServer(t, dialect)
    const client = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'subscription'])
    await json(['keys', 'rotate', '--client', client.id])
    const before = await json(['keys', 'list', '--client', client.id])
    for (const verb of ['finish', 'cancel']) {
      assertJsonFailure(await run(['keys', verb, '--client', client.id, '--json']), 'KEYMINT_NO_ROTATION_IN_PROGRESS', `${verb}: rotated without a grace`)
      assertJsonFailure(await run(['keys', verb, '--client', '7d444840-9dc0-41f5-8d0a-000000000000', '--json']), 'KEYMINT_CLIENT_NOT_FOUND', `${verb}: unknown client`)
      assertJsonFailure(await run(['keys', verb, '--json']), 'invalid_usage', `${verb}: no --client`)
      const human = await run(['keys', verb, '--client', client.id])
      assert.match(human.stderr, /^keymint: error: client \S+ has no rotation in progress[^\n]*\n$/, verb)
    }
    assert.deepEqual(await json(['keys', 'list', '--client', client.id]), before)
  })
})
