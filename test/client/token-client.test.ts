import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TokenClient, TokenError, type TokenClientOptions } from '../../src/client/index.js'
import { revokeKeyPairs } from '../../src/domain/key-pairs.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form, verifyAccessToken } from '../helpers/tokens.js'
import { manualClock, recordingFetch, sibling, startProtectedApi } from './fixtures.js'

type Wire = 'oauth2' | 'header'
const WIRES: readonly Wire[] = ['oauth2', 'header']
const TOKEN_PATH: Record<Wire, string> = { oauth2: '/oauth2/token', header: '/auth/oauth' }

function clientFor(s: TestServer, c: SeededClient, wire: Wire, extra: Partial<TokenClientOptions> = {}) {
  const rec = recordingFetch()
  const client = new TokenClient({ issuer: s.url, clientId: c.clientId, clientSecret: c.clientSecret, dialect: wire, fetch: rec.fetch, ...extra })
  return { client, rec, tokenRequests: () => rec.count(TOKEN_PATH[wire]) }
}

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof TokenError, `expected a TokenError, got ${String(err)}`)
    return err
  }
  assert.fail('expected a rejection')
}

describeEachDialect('keymint/client TokenClient against keymint', (dialect) => {
  test('OAuth 2.0 dialect: discovers the token endpoint once, gets a verifiable token, then serves it from the cache', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const { client, rec, tokenRequests } = clientFor(s, c, 'oauth2')
    const first = await client.getTokenResponse()
    const { payload } = await verifyAccessToken(s.url, first.accessToken)
    assert.equal(payload.client_id, c.clientId)
    assert.equal(first.tokenType, 'Bearer')
    assert.equal(first.expiresIn, 36000)
    assert.equal(first.scope, 'all')
    assert.equal(await client.getToken(), first.accessToken)
    assert.equal(await client.getToken(), first.accessToken)
    assert.deepEqual(rec.calls, ['GET /.well-known/oauth-authorization-server', 'POST /oauth2/token'])
    client.invalidate()
    assert.notEqual(await client.getToken(), first.accessToken)
    assert.equal(tokenRequests(), 2)
    assert.equal(rec.count('/.well-known/oauth-authorization-server'), 1, 'discovery is not repeated')
  })

  test('OAuth 2.0 dialect: scope and a fixed token endpoint (with its trailing slash)', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services, { clientScopes: ['assets:read', 'assets:write'] })
    const rec = recordingFetch()
    const client = new TokenClient({ tokenEndpoint: `${s.url}/oauth2/token/`, clientId: c.clientId, clientSecret: c.clientSecret, scope: ['assets:read'], fetch: rec.fetch })
    const res = await client.getTokenResponse()
    assert.equal(res.scope, 'assets:read')
    assert.equal((await verifyAccessToken(s.url, res.accessToken)).payload.scope, 'assets:read')
    assert.deepEqual(rec.calls, ['POST /oauth2/token/'])

    const tooMuch = new TokenClient({ issuer: s.url, clientId: c.clientId, clientSecret: c.clientSecret, scope: 'keymint:admin', fetch: rec.fetch })
    const err = await rejection(tooMuch.getToken())
    assert.equal(err.error, 'invalid_scope')
    assert.equal(err.status, 400)
    assert.equal(rec.count('/oauth2/token'), 1, 'a refusal is not retried')
  })

  test('header dialect: subscription level on /auth/oauth, user level on /auth/oidc; lifetime read from the JWT', async (t) => {
    const s = await startTestServer(t, dialect)
    const sub = await seedClient(s.services, { level: 'subscription' })
    const usr = await seedClient(s.services, { level: 'user' })
    for (const [c, level, path] of [[sub, 'subscription', '/auth/oauth'], [usr, 'user', '/auth/oidc']] as const) {
      const { client, rec } = clientFor(s, c, 'header', { level })
      const res = await client.getTokenResponse()
      const { payload } = await verifyAccessToken(s.url, res.accessToken)
      assert.equal(payload.client_level, level)
      assert.equal(res.expiresIn, 4 * 3600)
      assert.equal(res.scope, undefined)
      assert.equal(await client.getToken(), res.accessToken)
      assert.deepEqual(rec.calls, [`POST ${path}`], 'no discovery, one request')
    }
  })

  test('header dialect: encrypted tokens are 5-part JWEs with the 4 h default lifetime assumed', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    for (const encrypted of [true, 'RSA512'] as const) {
      const { client } = clientFor(s, c, 'header', { encrypted })
      const res = await client.getTokenResponse()
      assert.equal(res.accessToken.split('.').length, 5, String(encrypted))
      assert.equal(res.expiresIn, 4 * 3600)
    }
  })

  for (const wire of WIRES) {
    test(`${wire}: concurrent getToken() calls share one request`, async (t) => {
      const s = await startTestServer(t, dialect)
      const c = await seedClient(s.services)
      const { client, tokenRequests } = clientFor(s, c, wire)
      const tokens = await Promise.all(Array.from({ length: 20 }, () => client.getToken()))
      assert.equal(new Set(tokens).size, 1)
      assert.equal(tokenRequests(), 1)
    })

    test(`${wire}: refreshes 60 s ahead of a long lifetime and 10 % ahead of a short one`, async (t) => {
      const s = await startTestServer(t, dialect)
      const cases = [
        { seed: await seedClient(s.services), lifetime: wire === 'oauth2' ? 36000 : 14400, skew: 60 },
        { seed: await seedClient(s.services, { lifetimeSeconds: 300 }), lifetime: 300, skew: 30 },
      ]
      for (const { seed, lifetime, skew } of cases) {
        const clock = manualClock()
        const { client, tokenRequests } = clientFor(s, seed, wire, { now: clock.now })
        const first = await client.getTokenResponse()
        assert.equal(first.expiresIn, lifetime)
        clock.advance(lifetime - skew - 1)
        assert.equal(await client.getToken(), first.accessToken, 'still cached just before the skew')
        assert.equal(tokenRequests(), 1)
        clock.advance(2)
        const second = await client.getToken()
        assert.notEqual(second, first.accessToken, 'refreshed inside the skew, before expiry')
        assert.equal(tokenRequests(), 2)
        const again = await Promise.all([client.getToken(), client.getToken()])
        assert.deepEqual(again, [second, second])
        assert.equal(tokenRequests(), 2)
      }
    })

    test(`${wire}: a wrong secret is invalid_client, surfaced at once and never retried`, async (t) => {
      const s = await startTestServer(t, dialect)
      const c = await seedClient(s.services)
      const { client, tokenRequests } = clientFor(s, { ...c, clientSecret: `kmsk_${'Z'.repeat(43)}` }, wire, { retryBaseMs: 1 })
      const err = await rejection(client.getToken())
      assert.equal(err.error, 'invalid_client')
      assert.equal(err.status, 401)
      assert.equal(typeof err.description, 'string')
      assert.equal(tokenRequests(), 1)
      await rejection(client.getToken())
      assert.equal(tokenRequests(), 2, 'a failure is not cached: the next call asks again')
    })

    test(`${wire}: the server's throttle (429, Retry-After beyond the wait limit) fails at once with retryAfterSeconds`, async (t) => {
      const s = await startTestServer(t, dialect, { throttleAddressLimit: 2, throttleWindow: '60s' })
      const c = await seedClient(s.services)
      const others = [await seedClient(s.services), await seedClient(s.services)]
      for (const o of others) {
        const refused = new TokenClient({ issuer: s.url, clientId: o.clientId, clientSecret: `kmsk_${'Z'.repeat(43)}`, dialect: wire })
        assert.equal((await rejection(refused.getToken())).error, 'invalid_client')
      }
      const { client, tokenRequests } = clientFor(s, c, wire, { retryBaseMs: 1 })
      const err = await rejection(client.getToken())
      assert.equal(err.status, 429)
      assert.equal(err.error, 'temporarily_unavailable')
      assert.ok(err.retryAfterSeconds !== undefined && err.retryAfterSeconds > 10, String(err.retryAfterSeconds))
      assert.equal(tokenRequests(), 1, 'does not block the caller for a minute')
    })
  }

  test('header dialect: a client on the wrong-level endpoint gets unauthorized_client, not retried', async (t) => {
    const s = await startTestServer(t, dialect)
    const usr = await seedClient(s.services, { level: 'user' })
    const { client, rec } = clientFor(s, usr, 'header', { level: 'subscription', retryBaseMs: 1 })
    const err = await rejection(client.getToken())
    assert.equal(err.error, 'unauthorized_client')
    assert.ok(err.description?.includes('/auth/oidc'), err.description)
    assert.deepEqual(rec.calls, ['POST /auth/oauth'])
  })

  for (const wire of WIRES) {
    test(`${wire}: client.fetch sends the bearer token, and after a 401 for a revoked token refreshes and retries once`, async (t) => {
      const s = await startTestServer(t, dialect)
      const c = await seedClient(s.services)
      const api = await startProtectedApi(t, s, await sibling(s, c))
      const { client, rec, tokenRequests } = clientFor(s, c, wire)

      const ok = await client.fetch(`${api.url}/assets`)
      assert.equal(ok.status, 200)
      const first = await ok.json() as { client_id: string; jti: string }
      assert.equal(first.client_id, c.clientId)
      assert.equal(api.seen[0], `Bearer ${await client.getToken()}`)

      // RFC 7009: revoke the cached token behind the client's back; the API now refuses it.
      const token = await client.getToken()
      const revoked = await fetch(`${s.url}/oauth2/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
        body: form({ token }),
      })
      assert.equal(revoked.status, 200)
      const again = await client.fetch(new Request(`${api.url}/assets`, { method: 'POST', body: 'payload' }))
      assert.equal(again.status, 200)
      const second = await again.json() as { jti: string; method: string }
      assert.notEqual(second.jti, first.jti, 'a fresh token')
      assert.equal(second.method, 'POST', 'the Request was replayed whole')
      assert.equal(api.seen.length, 3)
      assert.equal(api.seen[1], `Bearer ${token}`)
      assert.equal(api.seen[2], `Bearer ${await client.getToken()}`)
      assert.equal(tokenRequests(), 2)
      assert.equal(rec.count('/assets'), 3)
    })

    test(`${wire}: client.fetch retries a 401 only once, and concurrent 401s cause one refresh`, async (t) => {
      const s = await startTestServer(t, dialect)
      const c = await seedClient(s.services)
      const api = await startProtectedApi(t, s, await sibling(s, c), { refuseAll: true })
      const { client, tokenRequests } = clientFor(s, c, wire)
      const res = await client.fetch(`${api.url}/assets`, { headers: { 'x-trace': '1' } })
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
      assert.equal(api.seen.length, 2)
      assert.equal(tokenRequests(), 2)

      const all = await Promise.all(Array.from({ length: 5 }, () => client.fetch(`${api.url}/assets`)))
      assert.ok(all.every((r) => r.status === 401))
      assert.equal(api.seen.length, 12)
      assert.equal(tokenRequests(), 3, 'five callers refused with the same token refresh it once')
    })

    test(`${wire}: once the key pair is revoked, client.fetch surfaces invalid_client`, async (t) => {
      const s = await startTestServer(t, dialect)
      const c = await seedClient(s.services)
      const api = await startProtectedApi(t, s, await sibling(s, c))
      const { client, tokenRequests } = clientFor(s, c, wire)
      assert.equal((await client.fetch(api.url)).status, 200)
      await revokeKeyPairs(s.services, { clientId: c.clientRecordId })
      const err = await rejection(client.fetch(api.url))
      assert.equal(err.error, 'invalid_client')
      assert.equal(api.seen.length, 2)
      assert.equal(tokenRequests(), 2)
    })
  }
})
