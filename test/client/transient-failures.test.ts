import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { test, type TestContext } from 'node:test'
import { TokenClient, TokenError, TokenNetworkError, type TokenClientOptions } from '../../src/client/index.js'
import { listen, manualClock, recordingFetch } from './fixtures.js'

// A stand-in token endpoint for faults the real server cannot be made to produce on demand.
const TOKEN = 'eyJhbGciOiJub25lIn0.eyJleHAiOjIwMDAwMDAwMDB9.c2ln'
const ok = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' })
  .end(JSON.stringify({ access_token: TOKEN, token_type: 'Bearer', expires_in: 600, scope: 'all' }))
const oauthError = (res: ServerResponse, status: number, error: string, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ error, error_description: 'stand-in' }))

type Step = (req: IncomingMessage, res: ServerResponse) => void

/** Answers the n-th request with steps[n], and every later one with the last step. */
async function standIn(t: TestContext, steps: Step[]): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = []
  const url = await listen(t, (req, res) => {
    requests.push(req)
    const step = steps[Math.min(requests.length, steps.length) - 1]!
    step(req, res)
  })
  return { url, requests }
}

const fast = { retryBaseMs: 1, retryMaxDelayMs: 50, requestTimeoutMs: 2000 } as const

function clientOf(url: string, extra: Partial<TokenClientOptions> = {}): TokenClient {
  return new TokenClient({ tokenEndpoint: `${url}/oauth2/token`, clientId: 'id:with colon', clientSecret: 's3cr3t+/=', ...fast, ...extra })
}

async function rejection<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`)
    return err
  }
  assert.fail('expected a rejection')
}

test('5xx answers are retried until one succeeds', async (t) => {
  const api = await standIn(t, [(_q, r) => oauthError(r, 503, 'temporarily_unavailable'), (_q, r) => r.writeHead(502).end('bad gateway'), (_q, r) => ok(r)])
  const res = await clientOf(api.url).getTokenResponse()
  assert.equal(res.accessToken, TOKEN)
  assert.equal(res.expiresIn, 600)
  assert.equal(api.requests.length, 3)
})

test('the request is RFC 6749 §4.4.2 with client_secret_basic, form-encoded per §2.3.1', async (t) => {
  let body = ''
  const api = await standIn(t, [(req, res) => {
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => { body += chunk })
    req.on('end', () => ok(res))
  }])
  await clientOf(api.url, { scope: 'a b', resource: 'https://api.example.com' }).getToken()
  const req = api.requests[0]!
  assert.equal(req.method, 'POST')
  assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded')
  assert.equal(Buffer.from(req.headers.authorization!.replace(/^Basic /, ''), 'base64').toString(), 'id%3Awith+colon:s3cr3t%2B%2F%3D')
  assert.deepEqual(Object.fromEntries(new URLSearchParams(body)), { grant_type: 'client_credentials', scope: 'a b', resource: 'https://api.example.com' })
})

test('a dropped connection is retried', async (t) => {
  const api = await standIn(t, [(req) => req.socket.destroy(), (_q, r) => ok(r)])
  assert.equal(await clientOf(api.url).getToken(), TOKEN)
  assert.equal(api.requests.length, 2)
})

test('an answer that never comes times out and is retried', async (t) => {
  const api = await standIn(t, [() => {}, (_q, r) => ok(r)])
  assert.equal(await clientOf(api.url, { requestTimeoutMs: 300 }).getToken(), TOKEN)
  // Two, unless a loaded machine made the answer to the retry late too: then it was retried again.
  assert.ok(api.requests.length >= 2, `${api.requests.length} requests`)
})

test('429 with Retry-After within the wait limit is retried after it', async (t) => {
  const api = await standIn(t, [(_q, r) => oauthError(r, 429, 'temporarily_unavailable', { 'retry-after': '0' }), (_q, r) => ok(r)])
  assert.equal(await clientOf(api.url).getToken(), TOKEN)
  assert.equal(api.requests.length, 2)
})

test('429 with a Retry-After beyond the wait limit fails at once, carrying it', async (t) => {
  const api = await standIn(t, [(_q, r) => oauthError(r, 429, 'temporarily_unavailable', { 'retry-after': '120' }), (_q, r) => ok(r)])
  const err = await rejection(clientOf(api.url).getToken(), TokenError)
  assert.equal(err.status, 429)
  assert.equal(err.error, 'temporarily_unavailable')
  assert.equal(err.retryAfterSeconds, 120)
  assert.equal(api.requests.length, 1)
})

test('a refresh that fails transiently falls back to the cached token until it expires', async (t) => {
  const api = await standIn(t, [(_q, r) => ok(r), (_q, r) => r.writeHead(503).end()])
  const clock = manualClock()
  const client = clientOf(api.url, { maxRetries: 1, now: clock.now })
  assert.equal(await client.getToken(), TOKEN)
  clock.advance(541)
  assert.equal(await client.getToken(), TOKEN, 'inside the refresh skew, the old token is still good')
  assert.equal(api.requests.length, 3)
  clock.advance(60)
  const err = await rejection(client.getToken(), TokenError)
  assert.equal(err.error, 'temporarily_unavailable')
  assert.equal(err.status, 503)
  assert.equal(api.requests.length, 5)
})

test('retries are bounded by maxRetries; the last answer is the error', async (t) => {
  const api = await standIn(t, [(_q, r) => r.writeHead(500).end('<html>oops</html>')])
  const err = await rejection(clientOf(api.url, { maxRetries: 2 }).getToken(), TokenError)
  assert.equal(err.error, 'server_error')
  assert.equal(err.status, 500)
  assert.equal(api.requests.length, 3)
})

test('an unreachable server is a TokenNetworkError with the cause, after the retries', async (t) => {
  const api = await standIn(t, [(_q, r) => ok(r)])
  const dead = new URL(api.url)
  dead.port = '1'
  const rec = recordingFetch()
  const err = await rejection(clientOf(dead.origin, { maxRetries: 3, fetch: rec.fetch }).getToken(), TokenNetworkError)
  assert.ok(err.cause instanceof Error)
  assert.equal(err.url, `${dead.origin}/oauth2/token`)
  assert.equal(rec.calls.length, 4)
})

test('4xx refusals and unusable answers are never retried', async (t) => {
  const cases: { name: string; step: Step; error: string; status: number }[] = [
    { name: 'invalid_client', step: (_q, r) => oauthError(r, 401, 'invalid_client', { 'www-authenticate': 'Basic' }), error: 'invalid_client', status: 401 },
    { name: 'invalid_request', step: (_q, r) => oauthError(r, 400, 'invalid_request'), error: 'invalid_request', status: 400 },
    { name: '404 without an OAuth body', step: (_q, r) => r.writeHead(404).end('not found'), error: 'invalid_response', status: 404 },
    { name: 'a redirect', step: (_q, r) => r.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' }).end(), error: 'invalid_response', status: 307 },
    { name: '200 that is not JSON', step: (_q, r) => r.writeHead(200).end('<html>'), error: 'invalid_response', status: 200 },
    { name: '200 without access_token', step: (_q, r) => r.writeHead(200).end('{"token_type":"Bearer"}'), error: 'invalid_response', status: 200 },
    { name: 'a token_type other than Bearer', step: (_q, r) => r.writeHead(200).end(JSON.stringify({ access_token: TOKEN, token_type: 'DPoP' })), error: 'invalid_response', status: 200 },
    { name: 'a token that cannot go in a header', step: (_q, r) => r.writeHead(200).end(JSON.stringify({ access_token: 'a\r\nx-evil: 1', token_type: 'Bearer' })), error: 'invalid_response', status: 200 },
  ]
  for (const c of cases) {
    const api = await standIn(t, [c.step, (_q, r) => ok(r)])
    const err = await rejection(clientOf(api.url).getToken(), TokenError)
    assert.equal(err.error, c.error, c.name)
    assert.equal(err.status, c.status, c.name)
    assert.equal(api.requests.length, 1, c.name)
  }
})

test('discovery: retried on 5xx, done once, and refused when the metadata names another issuer', async (t) => {
  let issuer = ''
  const metadata: Step = (req, res) => {
    if (req.url === '/.well-known/oauth-authorization-server') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, token_endpoint: `${issuer}/oauth2/token` }))
    } else ok(res)
  }
  const api = await standIn(t, [(_q, r) => r.writeHead(503).end(), metadata])
  issuer = api.url
  const client = new TokenClient({ issuer: `${api.url}/`, clientId: 'id', clientSecret: 'secret', ...fast })
  assert.equal(await client.getToken(), TOKEN)
  client.invalidate()
  await client.getToken()
  assert.deepEqual(api.requests.map((r) => `${r.method} ${r.url}`), [
    'GET /.well-known/oauth-authorization-server',
    'GET /.well-known/oauth-authorization-server',
    'POST /oauth2/token',
    'POST /oauth2/token',
  ])

  issuer = 'https://impostor.example'
  const other = new TokenClient({ issuer: api.url, clientId: 'id', clientSecret: 'secret', ...fast })
  const err = await rejection(other.getToken(), TokenError)
  assert.equal(err.error, 'invalid_response')
  assert.equal(api.requests.length, 5, 'not retried')
  issuer = api.url
  assert.equal(await other.getToken(), TOKEN, 'a failed discovery is tried again on the next call')
})

test('header dialect: the body is the token; options of the other dialect are refused at construction', async (t) => {
  const api = await standIn(t, [(req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${TOKEN}\n`)])
  const client = new TokenClient({ issuer: api.url, clientId: 'id', clientSecret: 'secret', dialect: 'header', level: 'user', encrypted: 'RSA512', ...fast })
  const res = await client.getTokenResponse()
  assert.equal(res.accessToken, TOKEN)
  assert.equal(api.requests[0]?.url, '/auth/oidc')
  assert.equal(api.requests[0]?.headers.clientid, 'id')
  assert.equal(api.requests[0]?.headers.clientsecret, 'secret')

  const base = { issuer: api.url, clientId: 'id', clientSecret: 'secret' }
  assert.throws(() => new TokenClient({ ...base, dialect: 'header', scope: 'a' }), TypeError)
  assert.throws(() => new TokenClient({ ...base, encrypted: true }), TypeError)
  assert.throws(() => new TokenClient({ clientId: 'id', clientSecret: 'secret' }), TypeError)
  assert.throws(() => new TokenClient({ ...base, clientSecret: '' }), TypeError)
  assert.throws(() => new TokenClient({ ...base, issuer: 'not a url' }), TypeError)
  assert.throws(() => new TokenClient({ ...base, maxRetries: -1 }), TypeError)
})
