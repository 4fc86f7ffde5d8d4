import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test, type TestContext } from 'node:test'
import { cliDatabase, serve, type Created } from '../helpers/cli.js'
import { describeEachDialect, type Dialect } from '../helpers/dialects.js'
import { basic, form } from '../helpers/tokens.js'

interface Line { msg?: string; level?: number; reqId?: string; method?: string; route?: string | null; status?: number; ms?: number; client_id?: string; user_id?: string; address?: string }

/** `keymint serve` over a database holding one account and one client that may call the API. */
async function serveWithClient(t: TestContext, dialect: Dialect, env: Record<string, string>) {
  const cli = await cliDatabase(t, dialect)
  // Started on the empty database, so it bootstraps its admin; the client is made beside it.
  const server = await serve(t, ['--db', cli.db.url, '--port', '0'], {
    cwd: cli.dir, env: { ...cli.env, KEYMINT_BOOTSTRAP_ADMIN_EMAIL: 'root@example.com', ...env },
  })
  const account = await cli.json<{ id: string }>(['account', 'create', '--name', 'acme'])
  const client = await cli.json<Created>(['client', 'create', '--account', account.id, '--name', 'ops', '--level', 'subscription', '--scopes', 'keymint:admin'])
  const started = server.output().length
  const token = async (secret = client.client_secret, path = '/oauth2/token') => fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, secret) },
    body: form({ grant_type: 'client_credentials' }),
  })
  /** The request lines written since the start, once the server has stopped (so every line is out). */
  const requestLines = async (): Promise<Line[]> => {
    server.child.kill('SIGTERM')
    assert.equal(await server.exited, 0)
    return server.output().slice(started).split('\n').filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'request completed')
  }
  return { server, client, token, requestLines, welcome: server.output().slice(0, started) }
}

const oneTimePassword = (welcome: string): string => {
  const found = /one-time password[^\n]*\n\s+(\S+)/.exec(welcome)?.[1]
  assert.ok(found, welcome)
  return found
}

describeEachDialect('one log line per request', (dialect) => {
  test('method, route pattern, status, duration, the client the server found, the address', async (t) => {
    const { server, client, token, requestLines, welcome } = await serveWithClient(t, dialect, {})
    assert.equal((await token(client.client_secret, '/oauth2/token?audience=a-secret-query')).status, 200)
    const bearer = (await (await token()).json() as { access_token: string }).access_token
    assert.equal((await token('wrong-secret-of-the-right-length-0123456789abcdefgh')).status, 401)
    const stranger = randomUUID()
    const unknown = await fetch(`${server.url}/auth/oauth`, { method: 'POST', headers: { clientId: stranger, clientSecret: 'x' } })
    assert.equal(unknown.status, 401)
    assert.equal((await fetch(`${server.url}/api/v1/users`, { headers: { authorization: `Bearer ${bearer}` } })).status, 200)
    const signIn = await fetch(`${server.url}/api/v1/sessions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'root@example.com', password: oneTimePassword(welcome) }),
    })
    assert.equal(signIn.status, 201)
    const session = (await signIn.json() as { user: { id: string } }).user
    const cookie = signIn.headers.getSetCookie()[0]?.split(';')[0] ?? ''
    assert.equal((await fetch(`${server.url}/api/v1/sessions/current`, { headers: { cookie } })).status, 200)
    assert.equal((await fetch(`${server.url}/no/such/path?q=1`, { method: 'POST' })).status, 404)

    const lines = await requestLines()
    assert.deepEqual(lines.map((l) => [l.method, l.route, l.status]), [
      ['POST', '/oauth2/token', 200],
      ['POST', '/oauth2/token', 200],
      ['POST', '/oauth2/token', 401],
      ['POST', '/auth/oauth', 401],
      ['GET', '/api/v1/users', 200],
      ['POST', '/api/v1/sessions', 201],
      ['GET', '/api/v1/sessions/current', 200],
      ['POST', null, 404],
    ])
    for (const line of lines) {
      assert.equal(line.level, 30, 'at info')
      assert.equal(line.address, '127.0.0.1')
      assert.match(line.reqId ?? '', /^req-/)
      assert.ok(typeof line.ms === 'number' && line.ms >= 0, `a duration in ms: ${line.ms}`)
    }
    assert.equal(new Set(lines.map((l) => l.reqId)).size, lines.length, 'one line per request')
    // The key pair that authenticated, or the known one a wrong secret was sent for; never an id nobody holds.
    assert.deepEqual(lines.map((l) => l.client_id), [client.client_id, client.client_id, client.client_id, undefined, client.client_id, undefined, undefined, undefined])
    assert.deepEqual(lines.map((l) => l.user_id), [undefined, undefined, undefined, undefined, undefined, undefined, session.id, undefined])
    const text = JSON.stringify(lines)
    for (const absent of ['a-secret-query', stranger, '/no/such/path']) assert.ok(!text.includes(absent), `${absent} is not logged`)
  })

  test('KEYMINT_REQUEST_LOG=errors keeps refusals only, with the address a trusted proxy names', async (t) => {
    const { server, token, requestLines } = await serveWithClient(t, dialect, { KEYMINT_REQUEST_LOG: 'errors', KEYMINT_TRUST_PROXY: 'true' })
    assert.equal((await token()).status, 200)
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
    const refused = await fetch(`${server.url}/oauth2/token`, { method: 'POST', headers: { 'x-forwarded-for': '203.0.113.7' } })
    assert.equal(refused.status, 400)
    // Lines are written a few at a time, but a quiet server's lines still go out within a moment.
    for (let tries = 0; tries < 50 && !server.output().includes('"msg":"request completed"'); tries++) await new Promise((resolve) => setTimeout(resolve, 100))
    assert.match(server.output(), /"msg":"request completed"/, 'written while the server runs')
    const lines = await requestLines()
    assert.deepEqual(lines.map((l) => [l.route, l.status, l.address]), [['/oauth2/token', 400, '203.0.113.7']])
  })

  test('KEYMINT_REQUEST_LOG=off writes none', async (t) => {
    const { server, token, requestLines } = await serveWithClient(t, dialect, { KEYMINT_REQUEST_LOG: 'off' })
    assert.equal((await token()).status, 200)
    assert.equal((await fetch(`${server.url}/oauth2/token`, { method: 'POST' })).status, 400)
    assert.deepEqual(await requestLines(), [])
  })
})
