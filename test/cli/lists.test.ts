import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { assertJsonFailure, cliBesideServer, keymint, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test

describeEachDialect('keymint CLI: lists and show', (dialect) => {
  test('lists are {"items": [...]}, and every item is what the API shows for the same record', async (t) => {
    const { seed, call, json } = await cliBesideServer(t, dialect)
    const user = await json(['user', 'create', '--account', seed.accountId, '--email', 'ops@acme.io', '--role', 'admin', '--scopes', 'assets:read'])
    const client = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'user', '--user', user.id, '--lifetime', '30m'])
    await json(['keys', 'rotate', '--client', client.id, '--grace', '10m'])
    await json(['api', 'create', '--account', seed.accountId, '--identifier', 'https://assets.example.com'])
    const other = await json(['account', 'create', '--name', 'Other', '--plan', 'standard'])

    const accounts = await json<{ items: Json[] }>(['account', 'list'])
    assert.deepEqual(Object.keys(accounts), ['items'])
    assert.deepEqual(accounts.items.find((a) => a.id === seed.accountId), (await call('GET', '/account')).body)
    assert.deepEqual(accounts.items.find((a) => a.id === other.id), other, 'list items are what create printed')

    const lists: [string[], string][] = [
      [['user', 'list', '--account', seed.accountId], '/users'],
      [['client', 'list', '--account', seed.accountId], '/clients'],
      [['keys', 'list', '--client', client.id], `/clients/${client.id}/key-pairs`],
      [['api', 'list', '--account', seed.accountId], '/apis'],
      [['signing-keys', 'list'], '/signing-keys'],
    ]
    for (const [args, path] of lists) {
      const fromCli = await json<{ items: Json[] }>(args)
      const fromApi = await call('GET', path)
      assert.equal(fromApi.status, 200, path)
      assert.deepEqual(fromCli, fromApi.body, `${args.slice(0, 2).join(' ')} = GET ${path}`)
      assert.ok(fromCli.items.length > 0, path)
    }
    const audit = await json<{ items: Json[] }>(['audit', 'list', '--account', seed.accountId])
    assert.deepEqual(audit.items, (await call('GET', '/audit-events')).body.items, 'audit list = GET /audit-events')

    assert.deepEqual(await json(['user', 'show', '--user', user.id]), user)
    const fromApi = (await call('GET', `/clients/${client.id}`)).body
    assert.equal(fromApi.disabled, false)
    for (const ref of [client.id, client.client_id]) {
      assert.deepEqual(await json(['client', 'show', '--client', ref]), fromApi, `client show --client ${ref} = GET /clients/{id}`)
    }
    assert.deepEqual(await json<{ items: unknown[] }>(['user', 'list', '--account', other.id]), { items: [] })
  })

  test('show and list refuse unknown records with their codes', async (t) => {
    const { seed, run } = await cliBesideServer(t, dialect)
    const unknown = '7d444840-9dc0-41f5-8d0a-000000000000'
    const cases: [string[], string][] = [
      [['user', 'list', '--account', unknown], 'KEYMINT_ACCOUNT_NOT_FOUND'],
      [['client', 'list', '--account', unknown], 'KEYMINT_ACCOUNT_NOT_FOUND'],
      [['user', 'show', '--user', unknown], 'KEYMINT_USER_NOT_FOUND'],
      [['user', 'show', '--user', seed.accountId], 'KEYMINT_USER_NOT_FOUND'],
      [['client', 'show', '--client', unknown], 'KEYMINT_CLIENT_NOT_FOUND'],
      [['client', 'show', '--client', 'nope'], 'KEYMINT_INVALID_INPUT'],
      [['client', 'show'], 'invalid_usage'],
    ]
    for (const [args, error] of cases) assertJsonFailure(await run([...args, '--json']), error, args.join(' '))
  })
})

test('keymint --version prints the version of package.json', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  for (const flag of ['--version', '-V']) {
    const res = await keymint([flag])
    assert.deepEqual(res, { code: 0, stdout: `${version}\n`, stderr: '' })
  }
})
