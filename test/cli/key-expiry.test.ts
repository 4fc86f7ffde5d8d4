import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertJsonFailure, cliBesideServer, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'

const DAY_MS = 86400 * 1000

interface Listed { items: { client_id: string; state: string; expires_at: string | null }[] }
interface AccountJson { id: string; default_key_expires_in_seconds: number | null; max_key_expires_in_seconds: number | null }

/** The CLI runs on the real clock: an expiry is `days` from when the command ran, give or take the run. */
function assertExpiresIn(expiresAt: string | null, days: number, startedAt: number, what: string): void {
  assert.ok(expiresAt !== null, `${what}: has an expiry`)
  const at = Date.parse(expiresAt)
  assert.ok(at >= startedAt + days * DAY_MS && at <= Date.now() + days * DAY_MS, `${what}: ${expiresAt} is ${days} days out`)
}

describeEachDialect('keymint --key-expires-in and the account key expiry settings', (dialect) => {
  test('client create and keys rotate take --key-expires-in; keys list shows expires_at; the account default and maximum apply', async (t) => {
    const { seed, json, run } = await cliBesideServer(t, dialect)
    let started = Date.now()
    const client = await json<Created & { expires_at: string | null }>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'subscription', '--key-expires-in', '90d'])
    assertExpiresIn(client.expires_at, 90, started, 'client create')
    const listed = await json<Listed>(['keys', 'list', '--client', client.id])
    assert.deepEqual(listed.items.map((p) => [p.client_id, p.state, p.expires_at]), [[client.client_id, 'active', client.expires_at]])
    const table = await run(['keys', 'list', '--client', client.id])
    assert.match(table.stdout, new RegExp(`${client.client_id}\\s+active\\s+expires ${client.expires_at}`))

    started = Date.now()
    const rotated = await json<Created & { expires_at: string | null }>(['keys', 'rotate', '--client', client.id, '--key-expires-in', '30d'])
    assertExpiresIn(rotated.expires_at, 30, started, 'keys rotate')
    const human = await run(['keys', 'rotate', '--client', client.id, '--key-expires-in', '7d'])
    assert.match(human.stdout, /^expires: +\d{4}-\d\d-\d\dT/m)

    const updated = await json<AccountJson>(['account', 'update', '--account', seed.accountId, '--default-key-expires-in', '30d', '--max-key-expires-in', '90d'])
    assert.deepEqual([updated.default_key_expires_in_seconds, updated.max_key_expires_in_seconds], [30 * 86400, 90 * 86400])
    started = Date.now()
    const byDefault = await json<Created & { expires_at: string | null }>(['client', 'create', '--account', seed.accountId, '--name', 'default', '--level', 'subscription'])
    assertExpiresIn(byDefault.expires_at, 30, started, 'the account default')
    const clientsBefore = await json(['client', 'list', '--account', seed.accountId])
    const tooLong = await run(['client', 'create', '--account', seed.accountId, '--name', 'too long', '--level', 'subscription', '--key-expires-in', '91d', '--json'])
    assertJsonFailure(tooLong, 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM', 'over the maximum')
    const pairsBefore = await json(['keys', 'list', '--client', client.id])
    assertJsonFailure(await run(['keys', 'rotate', '--client', client.id, '--key-expires-in', '100d', '--json']), 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM', 'rotate over the maximum')
    assert.deepEqual(await json(['client', 'list', '--account', seed.accountId]), clientsBefore, 'no client made')
    assert.deepEqual(await json(['keys', 'list', '--client', client.id]), pairsBefore, 'no pair issued or ended')

    const cleared = await json<AccountJson>(['account', 'update', '--account', seed.accountId, '--default-key-expires-in', 'none', '--max-key-expires-in', 'none'])
    assert.deepEqual([cleared.default_key_expires_in_seconds, cleared.max_key_expires_in_seconds], [null, null])
    const summary = await run(['account', 'update', '--account', seed.accountId, '--max-key-expires-in', '365d'])
    assert.match(summary.stdout, /new key pairs expire after: 365d\n {2}longest key pair lifetime: 365d/)
  })

  test('malformed expiries and settings are refused with one clear line and nothing written', async (t) => {
    const { seed, json, run } = await cliBesideServer(t, dialect)
    const client = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'subscription'])
    const state = async () => JSON.stringify([
      await json(['client', 'list', '--account', seed.accountId]), await json(['keys', 'list', '--client', client.id]), await json(['account', 'list']),
    ])
    const before = await state()
    const refused: [string, string[]][] = [
      ['zero', ['client', 'create', '--account', seed.accountId, '--name', 'x', '--level', 'subscription', '--key-expires-in', '0']],
      ['under an hour', ['client', 'create', '--account', seed.accountId, '--name', 'x', '--level', 'subscription', '--key-expires-in', '59m']],
      ['no unit it knows', ['client', 'create', '--account', seed.accountId, '--name', 'x', '--level', 'subscription', '--key-expires-in', '3w']],
      ['negative', ['keys', 'rotate', '--client', client.id, '--key-expires-in', '-1d']],
      ['over ten years', ['keys', 'rotate', '--client', client.id, '--key-expires-in', '3651d']],
      ['a huge number', ['keys', 'rotate', '--client', client.id, '--key-expires-in', '999999999d']],
      ['default not a duration', ['account', 'update', '--account', seed.accountId, '--default-key-expires-in', 'forever']],
      ['maximum too short', ['account', 'update', '--account', seed.accountId, '--max-key-expires-in', '10s']],
      ['nothing to change', ['account', 'update', '--account', seed.accountId]],
      ['one good, one bad', ['account', 'update', '--account', seed.accountId, '--default-key-expires-in', '30d', '--max-key-expires-in', 'x']],
      ['a default longer than the maximum', ['account', 'update', '--account', seed.accountId, '--default-key-expires-in', '90d', '--max-key-expires-in', '30d']],
    ]
    for (const [name, args] of refused) {
      const failure = assertJsonFailure(await run([...args, '--json']), name === 'a default longer than the maximum' ? 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM' : 'KEYMINT_INVALID_INPUT', name)
      assert.ok(failure.message.length < 200, `${name}: ${failure.message}`)
      const human = await run(args)
      assert.match(human.stderr, /^keymint: error: [^\n]+\n$/, `${name}: ${human.stderr}`)
    }
    assert.equal(await state(), before)
  })
})
