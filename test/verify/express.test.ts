import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { expressRequireScopes, keymintExpress, type Next, type TokenRequest } from '../../src/verify/index.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer } from '../helpers/server.js'
import { decodePart, encodePart, headerToken, oauth2Token, serverPrivateKey } from './support.js'

type Middleware = (req: IncomingMessage & TokenRequest, res: ServerResponse, next: Next) => void

/**
 * Express itself is not a dependency: a node:http server that runs connect-style middleware in
 * order, as Express's router does, stands in for it. `next(err)` answers err.statusCode or 500.
 */
async function startExpressLike(t: TestContext, routes: Record<string, Middleware[]>): Promise<string> {
  const server = createServer((req, res) => {
    const chain = routes[req.url ?? ''] ?? [(_req, r) => { r.statusCode = 404; r.end() }]
    let index = 0
    const next: Next = (err) => {
      if (err !== undefined) {
        res.statusCode = (err as { statusCode?: number }).statusCode ?? 500
        res.end()
        return
      }
      chain[index++]?.(req, res, next)
    }
    next()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const sendClaims: Middleware = (req, res) => {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ client_id: req.token?.claims.client_id, encrypted: req.token?.encrypted }))
}

describeEachDialect('keymint/verify Express middleware (node:http adapter)', (dialect) => {
  test('answers RFC 6750 challenges, sets req.token, and checks scopes', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const { key } = await serverPrivateKey(s, 'enc')
    const auth = keymintExpress({ issuer: s.url, audience: s.url, decryptionKey: key, now: () => s.clock.now() })
    t.after(() => auth.verifier.close())
    const api = await startExpressLike(t, {
      '/me': [auth, sendClaims],
      '/reports': [auth, expressRequireScopes('reports:read'), sendClaims],
      '/admin': [auth, expressRequireScopes('keymint:admin'), sendClaims],
      '/unprotected-admin': [expressRequireScopes('keymint:admin'), sendClaims],
    })
    const token = await headerToken(s, c)
    const [h, , sig] = token.split('.') as [string, string, string]
    const tampered = `${h}.${encodePart({ ...decodePart(token, 1), client_id: 'someone-else' })}.${sig}`

    const cases: { name: string; path: string; authorization?: string; status: number; challenge?: RegExp; error?: string }[] = [
      { name: 'no credentials', path: '/me', status: 401, challenge: /^Bearer, DPoP algs="ES256 [^"]+"$/, error: 'invalid_token' },
      { name: 'garbage token', path: '/me', authorization: 'Bearer a.b.c', status: 401, challenge: /^Bearer error="invalid_token", error_description="[^"]+"$/, error: 'invalid_token' },
      { name: 'token with a space inside', path: '/me', authorization: `Bearer ${token} x`, status: 401, challenge: /error="invalid_token"/, error: 'invalid_token' },
      { name: 'tampered token', path: '/me', authorization: `Bearer ${tampered}`, status: 401, challenge: /error="invalid_token"/, error: 'invalid_token' },
      { name: 'good token', path: '/me', authorization: `Bearer ${token}`, status: 200 },
      { name: 'encrypted token', path: '/me', authorization: `Bearer ${await headerToken(s, c, 'encrypted=RSA512')}`, status: 200 },
      { name: 'scope granted by "all"', path: '/reports', authorization: `Bearer ${token}`, status: 200 },
      { name: 'keymint scope not granted by "all"', path: '/admin', authorization: `Bearer ${token}`, status: 403, challenge: /^Bearer error="insufficient_scope", error_description="[^"]+", scope="keymint:admin"$/, error: 'insufficient_scope' },
      { name: 'scope check without the verifying middleware', path: '/unprotected-admin', authorization: `Bearer ${token}`, status: 401, challenge: /^Bearer, DPoP algs="ES256 [^"]+"$/, error: 'invalid_token' },
    ]
    for (const c2 of cases) {
      const res = await fetch(`${api}${c2.path}`, c2.authorization === undefined ? {} : { headers: { authorization: c2.authorization } })
      assert.equal(res.status, c2.status, c2.name)
      if (c2.challenge) assert.match(res.headers.get('www-authenticate') ?? '', c2.challenge, c2.name)
      else assert.equal(res.headers.get('www-authenticate'), null, c2.name)
      const body = await res.json() as Record<string, unknown>
      if (c2.error) {
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
        assert.equal(body.error, c2.error, c2.name)
        assert.equal(typeof body.error_description, 'string', c2.name)
      }
    }
    const me = await fetch(`${api}/me`, { headers: { authorization: `Bearer ${token}` } })
    assert.deepEqual(await me.json(), { client_id: c.clientId, encrypted: false })

    s.clock.advance(4 * 3600 + 31)
    const expired = await fetch(`${api}/me`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(expired.status, 401)
    assert.match(expired.headers.get('www-authenticate') ?? '', /error_description="token expired"/)
  })

  test('a verifier of your own; an unreachable server goes to next(err) as a 503', async (t) => {
    const s = await startTestServer(t, dialect)
    const token = await oauth2Token(s, await seedClient(s.services))
    const down = keymintExpress({ issuer: s.url, audience: s.url, fetch: () => Promise.reject(new TypeError('fetch failed')) })
    const shared = keymintExpress({ verifier: down.verifier })
    assert.equal(shared.verifier, down.verifier)
    const api = await startExpressLike(t, { '/me': [shared, sendClaims] })
    assert.equal((await fetch(`${api}/me`, { headers: { authorization: `Bearer ${token}` } })).status, 503)
  })
})
