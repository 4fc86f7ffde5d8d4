import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import Fastify from 'fastify'
import { fastifyRequireScopes, keymintFastify, type KeymintFastifyOptions } from '../../src/verify/index.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer } from '../helpers/server.js'
import { decodePart, encodePart, headerToken, oauth2Token, serverPrivateKey, verifierFor } from './support.js'

/** A resource server: `/api/*` behind the plugin, `/public` outside its context. */
async function startApi(t: TestContext, options: KeymintFastifyOptions): Promise<string> {
  const app = Fastify()
  await app.register(async (api) => {
    await api.register(keymintFastify, options)
    api.get('/api/me', async (request) => ({ client_id: request.token?.claims.client_id, encrypted: request.token?.encrypted }))
    api.get('/api/reports', { preHandler: fastifyRequireScopes('reports:read') }, async () => ({ reports: [] }))
    api.get('/api/admin', { preHandler: fastifyRequireScopes('keymint:admin') }, async () => ({ admin: true }))
  })
  app.get('/public', async (request) => ({ token: request.token ?? null }))
  app.get('/public/admin', { preHandler: fastifyRequireScopes('keymint:admin') }, async () => ({ admin: true }))
  t.after(() => app.close())
  return app.listen({ port: 0, host: '127.0.0.1' })
}

const call = (url: string, authorization?: string) => fetch(url, authorization === undefined ? {} : { headers: { authorization } })

describeEachDialect('keymint/verify Fastify plugin', (dialect) => {
  test('answers RFC 6750 challenges, sets request.token, and checks scopes per route', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const { key } = await serverPrivateKey(s, 'enc')
    const api = await startApi(t, { verifier: verifierFor(t, s, { decryptionKey: key }) })
    const token = await headerToken(s, c)
    const [h, , sig] = token.split('.') as [string, string, string]
    const tampered = `${h}.${encodePart({ ...decodePart(token, 1), scope: 'keymint:admin' })}.${sig}`

    const cases: { name: string; path: string; authorization?: string; status: number; challenge?: RegExp; error?: string }[] = [
      { name: 'no credentials', path: '/api/me', status: 401, challenge: /^Bearer, DPoP algs="ES256 [^"]+"$/, error: 'invalid_token' },
      { name: 'Basic credentials', path: '/api/me', authorization: 'Basic YTpi', status: 401, challenge: /^Bearer, DPoP algs="ES256 [^"]+"$/, error: 'invalid_token' },
      { name: 'Bearer without a token', path: '/api/me', authorization: 'Bearer', status: 401, challenge: /^Bearer error="invalid_token", error_description="[^"]+"$/, error: 'invalid_token' },
      { name: 'garbage token', path: '/api/me', authorization: 'Bearer not-a-token', status: 401, challenge: /error="invalid_token", error_description="token is malformed"/, error: 'invalid_token' },
      { name: 'tampered token', path: '/api/admin', authorization: `Bearer ${tampered}`, status: 401, challenge: /error="invalid_token"/, error: 'invalid_token' },
      { name: 'good token', path: '/api/me', authorization: `Bearer ${token}`, status: 200 },
      { name: 'scheme in lower case', path: '/api/me', authorization: `bearer ${token}`, status: 200 },
      { name: 'encrypted token', path: '/api/me', authorization: `Bearer ${await headerToken(s, c, 'encrypted=true')}`, status: 200 },
      { name: 'scope granted by "all"', path: '/api/reports', authorization: `Bearer ${token}`, status: 200 },
      { name: 'keymint scope not granted by "all"', path: '/api/admin', authorization: `Bearer ${token}`, status: 403, challenge: /^Bearer error="insufficient_scope", error_description="[^"]+", scope="keymint:admin"$/, error: 'insufficient_scope' },
      { name: 'outside the plugin: no check', path: '/public', status: 200 },
      { name: 'outside the plugin: a scope check still needs a token', path: '/public/admin', authorization: `Bearer ${token}`, status: 401, challenge: /^Bearer, DPoP algs="ES256 [^"]+"$/, error: 'invalid_token' },
    ]
    for (const c2 of cases) {
      const res = await call(`${api}${c2.path}`, c2.authorization)
      assert.equal(res.status, c2.status, c2.name)
      const body = await res.json() as Record<string, unknown>
      if (c2.challenge) assert.match(res.headers.get('www-authenticate') ?? '', c2.challenge, c2.name)
      else assert.equal(res.headers.get('www-authenticate'), null, c2.name)
      if (c2.error) {
        assert.equal(body.error, c2.error, c2.name)
        assert.equal(typeof body.error_description, 'string', c2.name)
      }
    }
    assert.deepEqual(await (await call(`${api}/api/me`, `Bearer ${token}`)).json(), { client_id: c.clientId, encrypted: false })
    assert.deepEqual(await (await call(`${api}/public`)).json(), { token: null })
  })

  test('created from options it verifies the same way; an unreachable server is a 503, not a 401', async (t) => {
    const s = await startTestServer(t, dialect)
    const token = await oauth2Token(s, await seedClient(s.services))
    const api = await startApi(t, { issuer: s.url, audience: s.url })
    assert.equal((await call(`${api}/api/me`, `Bearer ${token}`)).status, 200)
    const down = await startApi(t, { issuer: s.url, audience: s.url, fetch: () => Promise.reject(new TypeError('fetch failed')) })
    const res = await call(`${down}/api/me`, `Bearer ${token}`)
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('www-authenticate'), null)
  })
})
