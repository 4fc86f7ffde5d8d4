import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { test, type TestContext } from 'node:test'
import { keymint, keymintJson, type CliResult } from '../helpers/cli.js'
import { describeEachDialect, type Dialect } from '../helpers/dialects.js'
import { adminOf, tokenOf, type ApiCall } from '../helpers/management.js'
import { startTestServer, tempDir, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test
interface Created { id: string; client_id: string; client_secret: string }

/** A real server, an admin caller of its REST API, and the CLI over the same database and master key. */
async function serverAndCli(t: TestContext, dialect: Dialect): Promise<{
  s: TestServer; seed: SeededClient; call: ApiCall; dir: string
  run: (args: string[]) => Promise<CliResult>; json: <T = Json>(args: string[]) => Promise<T>
}> {
  const s = await startTestServer(t, dialect)
  const { seed, call } = await adminOf(s)
  const dir = tempDir(t)
  const env = { KEYMINT_MASTER_KEY: s.config.masterKey.value }
  const run = (args: string[]) => keymint([...args, '--db', s.config.database.url], { env, cwd: dir })
  const json = <T = Json>(args: string[]) => keymintJson<T>([...args, '--db', s.config.database.url], { env, cwd: dir })
  return { s, seed, call, dir, run, json }
}

function assertJsonFailure(res: CliResult, error: string, name: string): void {
  assert.notEqual(res.code, 0, name)
  assert.equal(res.stdout, '', name)
  assert.match(res.stderr, /^\{[^\n]*\}\n$/, `${name}: ${res.stderr}`)
  assert.equal((JSON.parse(res.stderr) as { error: string }).error, error, name)
}

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

describeEachDialect('keymint CLI: what an admin reaches for', (dialect) => {
  test('lists are {"items": [...]}, and every item is what the API shows for the same record', async (t) => {
    const { seed, call, json } = await serverAndCli(t, dialect)
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
    const { seed, run } = await serverAndCli(t, dialect)
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

  test('client update changes what PATCH /clients/{id} changes, and is audited', async (t) => {
    const { s, seed, call, json, run, dir } = await serverAndCli(t, dialect)
    const client = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'subscription', '--scopes', 'assets:read'])
    const updated = await json(['client', 'update', '--client', client.client_id, '--name', 'deploy', '--scopes', 'assets:read,assets:write', '--lifetime', '2h', '--encrypt', 'RSA-OAEP-256', '--alg', 'ES256'])
    assert.deepEqual(
      [updated.id, updated.name, updated.scopes, updated.lifetime_seconds, updated.token_encryption, updated.signing_alg],
      [client.id, 'deploy', ['assets:read', 'assets:write'], 7200, 'RSA-OAEP-256', 'ES256'],
    )
    assert.deepEqual(updated, (await call('GET', `/clients/${client.id}`)).body, 'what the API shows afterwards')
    const sealed = await token(s, client)
    assert.equal(sealed.status, 200)
    assert.equal(((await sealed.json()) as { access_token: string }).access_token.split('.').length, 5, 'the next token is encrypted')

    const cleared = await json(['client', 'update', '--client', client.id, '--lifetime', '', '--encrypt', '', '--alg', '', '--scopes', 'all'])
    assert.deepEqual([cleared.scopes, cleared.lifetime_seconds, cleared.token_encryption, cleared.signing_alg], [null, null, null, null])
    assert.deepEqual((await json(['client', 'update', '--client', client.id, '--scopes', ''])).scopes, [], "'' is no scope at all")

    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    writeFileSync(`${dir}/client.pem`, publicKey.export({ format: 'pem', type: 'spki' }))
    const keyed = await json(['client', 'update', '--client', client.id, '--public-key', `${dir}/client.pem`, '--allow-secret', 'false'])
    assert.deepEqual([keyed.public_jwk.crv, keyed.allow_secret], ['P-256', false])
    assert.equal((await token(s, client)).status, 401, 'its secret no longer authenticates it')

    const refused: [string[], string][] = [
      [['--public-key', ''], 'KEYMINT_INVALID_INPUT'],
      [[], 'KEYMINT_INVALID_INPUT'],
      [['--allow-secret', 'yes'], 'KEYMINT_INVALID_INPUT'],
      [['--lifetime', '5s'], 'KEYMINT_INVALID_INPUT'],
      [['--scopes', 'all,assets:read'], 'KEYMINT_INVALID_INPUT'],
      [['--encrypt', 'RSA1_5'], 'KEYMINT_INVALID_INPUT'],
      [['--public-key', `${dir}/missing.pem`], 'KEYMINT_INVALID_INPUT'],
    ]
    for (const [args, error] of refused) assertJsonFailure(await run(['client', 'update', '--client', client.id, ...args, '--json']), error, args.join(' '))
    assert.deepEqual(await json(['client', 'show', '--client', client.id]), keyed, 'refused updates changed nothing')

    const events = (await json<{ items: Json[] }>(['audit', 'list', '--account', seed.accountId])).items.filter((e) => e.action === 'client.updated')
    assert.equal(events.length, 4)
    assert.ok(events.every((e) => e.actor === 'cli' && e.target === client.id))
  })

  test('client disable: no tokens, and every token issued before stays inactive, also once enabled again', async (t) => {
    const { s, seed, json, run } = await serverAndCli(t, dialect)
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
    const { s, seed, call, json, run } = await serverAndCli(t, dialect)
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

test('keymint --version prints the version of package.json', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  for (const flag of ['--version', '-V']) {
    const res = await keymint([flag])
    assert.deepEqual(res, { code: 0, stdout: `${version}\n`, stderr: '' })
  }
})
