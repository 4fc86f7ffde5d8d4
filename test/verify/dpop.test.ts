import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import express from 'express'
import Fastify from 'fastify'
import { exportJWK, SignJWT } from 'jose'
import {
  createVerifier, expressRequireScopes, fastifyRequireScopes, keymintExpress, keymintFastify, type TokenRequest, type Verifier,
} from '../../src/verify/index.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { dpopKey, dpopProof, unsignedProof, type DPoPKey, type ProofOptions } from '../helpers/dpop.js'
import { seedClient, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'
import { assertRefused, verifierFor } from './support.js'

const nowOf = (s: TestServer) => Math.floor(s.clock.now().getTime() / 1000)

/** A DPoP-bound token from keymint's token endpoint, for `key`. */
async function boundToken(s: TestServer, c: SeededClient, key: DPoPKey): Promise<string> {
  const res = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret),
      dpop: await dpopProof(key, { htu: `${s.url}/oauth2/token`, iat: nowOf(s) }),
    },
    body: form({ grant_type: 'client_credentials' }),
  })
  const body = await res.json() as { access_token: string; token_type: string }
  assert.equal(body.token_type, 'DPoP')
  return body.access_token
}

async function bearerToken(s: TestServer, c: SeededClient): Promise<string> {
  const res = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
    body: form({ grant_type: 'client_credentials' }),
  })
  return (await res.json() as { access_token: string }).access_token
}

/** Express 5 as the resource server: `/api/*` behind keymintExpress. */
async function startExpress(t: TestContext, verifier: Verifier, origin?: string): Promise<string> {
  const app = express()
  app.use('/api', keymintExpress({ verifier, ...(origin === undefined ? {} : { origin }) }))
  app.get('/api/reports', (req, res) => { res.json({ jkt: (req as unknown as TokenRequest).token?.jkt ?? null }) })
  app.post('/api/reports', (req, res) => { res.json({ jkt: (req as unknown as TokenRequest).token?.jkt ?? null }) })
  app.get('/api/admin', expressRequireScopes('keymint:admin'), (_req, res) => { res.json({ admin: true }) })
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Fastify as the resource server: `/api/*` behind keymintFastify. */
async function startFastify(t: TestContext, verifier: Verifier, origin?: string): Promise<string> {
  const app = Fastify()
  await app.register(async (api) => {
    await api.register(keymintFastify, { verifier, ...(origin === undefined ? {} : { origin }) })
    api.get('/api/reports', async (request) => ({ jkt: request.token?.jkt ?? null }))
    api.post('/api/reports', async (request) => ({ jkt: request.token?.jkt ?? null }))
    api.get('/api/admin', { preHandler: fastifyRequireScopes('keymint:admin') }, async () => ({ admin: true }))
  })
  t.after(() => app.close())
  return app.listen({ port: 0, host: '127.0.0.1' })
}

interface Call { status: number; body: Record<string, unknown>; challenge: string }

async function call(url: string, headers: Headers | Record<string, string>, method = 'GET'): Promise<Call> {
  const res = await fetch(url, { method, headers })
  return { status: res.status, body: await res.json() as Record<string, unknown>, challenge: res.headers.get('www-authenticate') ?? '' }
}

const DPOP_CHALLENGE = (error: string) => new RegExp(`^DPoP error="${error}", error_description="[^"]+", algs="ES256 [^"]+"$`)

describeEachDialect('keymint/verify: DPoP-bound tokens at Express and Fastify resource servers (RFC 9449 §7)', (dialect) => {
  test('a bound token with its proof is accepted; every way around the proof is refused with the RFC\'s error and a DPoP challenge', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const key = await dpopKey('ES256')
    const other = await dpopKey('ES256')
    const token = await boundToken(s, c, key)
    const bearer = await bearerToken(s, c)
    const verifier = verifierFor(t, s)
    await assertRefused(verifier.verify(token), 'invalid_token', 'verify() alone refuses a bound token')

    for (const [name, base] of [['express', await startExpress(t, verifier)], ['fastify', await startFastify(t, verifier)]] as const) {
      const url = `${base}/api/reports`
      const proof = (opts: Partial<ProofOptions> = {}) => dpopProof(key, { htm: 'GET', htu: url, iat: nowOf(s), accessToken: token, ...opts })
      const good = await call(url, { authorization: `DPoP ${token}`, dpop: await proof() })
      assert.equal(good.status, 200, `${name}: ${JSON.stringify(good.body)}`)
      assert.equal(good.body.jkt, key.jkt)
      assert.equal((await call(`${url}?page=2`, { authorization: `DPoP ${token}`, dpop: await proof() })).status, 200, `${name}: htu leaves the query out`)
      assert.equal((await call(url, { authorization: `DPoP ${token}`, dpop: await proof({ htm: 'POST' }) }, 'POST')).status, 200)
      assert.equal((await call(url, { authorization: `Bearer ${bearer}` })).status, 200, `${name}: bearer tokens still work`)

      const replayed = await proof()
      assert.equal((await call(url, { authorization: `DPoP ${token}`, dpop: replayed })).status, 200)
      const hmac = await new SignJWT({ htm: 'GET', htu: url, iat: nowOf(s), jti: `h-${name}`, ath: 'x' })
        .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt' }).sign(new TextEncoder().encode('secretsecretsecretsecretsecretsecret'))
      const folded = new Headers({ authorization: `DPoP ${token}` })
      folded.append('dpop', await proof())
      folded.append('dpop', await proof())
      const cases: { name: string; headers: Headers | Record<string, string>; status: number; error: string }[] = [
        { name: 'a replayed proof', headers: { authorization: `DPoP ${token}`, dpop: replayed }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'a proof for another URL', headers: { authorization: `DPoP ${token}`, dpop: await proof({ htu: `${base}/api/admin` }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'a proof for another origin', headers: { authorization: `DPoP ${token}`, dpop: await proof({ htu: 'https://api.example.com/api/reports' }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'a proof for another method', headers: { authorization: `DPoP ${token}`, dpop: await proof({ htm: 'DELETE' }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'a stale iat', headers: { authorization: `DPoP ${token}`, dpop: await proof({ iat: nowOf(s) - 61 }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'an iat in the future', headers: { authorization: `DPoP ${token}`, dpop: await proof({ iat: nowOf(s) + 60 }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'the token without its proof', headers: { authorization: `DPoP ${token}` }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'a proof for another token (ath)', headers: { authorization: `DPoP ${token}`, dpop: await proof({ accessToken: bearer }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'a proof without ath', headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: url, iat: nowOf(s) }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'a proof made with another key than cnf.jkt', headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(other, { htm: 'GET', htu: url, iat: nowOf(s), accessToken: token }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'a proof signed by another key than its jwk', headers: { authorization: `DPoP ${token}`, dpop: await proof({ signWith: other.privateKey }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'alg none', headers: { authorization: `DPoP ${token}`, dpop: unsignedProof(key, { htu: url, iat: nowOf(s) }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'alg HS256', headers: { authorization: `DPoP ${token}`, dpop: hmac }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'a jwk with its private parts', headers: { authorization: `DPoP ${token}`, dpop: await proof({ header: { jwk: await exportJWK(key.privateKey) } }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'typ JWT', headers: { authorization: `DPoP ${token}`, dpop: await proof({ header: { typ: 'JWT' } }) }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'two proofs', headers: folded, status: 401, error: 'invalid_dpop_proof' },
        { name: 'garbage for a proof', headers: { authorization: `DPoP ${token}`, dpop: 'a.b.c' }, status: 401, error: 'invalid_dpop_proof' },
        { name: 'the bound token as a bearer token', headers: { authorization: `Bearer ${token}` }, status: 401, error: 'invalid_token' },
        { name: 'the bound token as a bearer token, proof and all', headers: { authorization: `Bearer ${token}`, dpop: await proof() }, status: 401, error: 'invalid_token' },
        { name: 'an unbound token in the DPoP scheme', headers: { authorization: `DPoP ${bearer}`, dpop: await proof({ accessToken: bearer }) }, status: 401, error: 'invalid_token' },
        { name: 'a tampered bound token', headers: { authorization: `DPoP ${token.slice(0, -4)}AAAA`, dpop: await proof() }, status: 401, error: 'invalid_token' },
      ]
      for (const k of cases) {
        const answer = await call(url, k.headers)
        assert.equal(answer.status, k.status, `${name}: ${k.name}: ${JSON.stringify(answer.body)}`)
        assert.equal(answer.body.error, k.error, `${name}: ${k.name}`)
        assert.match(answer.challenge, DPOP_CHALLENGE(k.error), `${name}: ${k.name}`)
      }
      const scope = await call(`${base}/api/admin`, { authorization: `DPoP ${token}`, dpop: await proof({ htu: `${base}/api/admin` }) })
      assert.equal(scope.status, 403, name)
      assert.match(scope.challenge, /^DPoP error="insufficient_scope", error_description="[^"]+", scope="keymint:admin", algs="[^"]+"$/, name)
    }
  })

  test('behind a proxy, proofs name the public origin; the options are checked at construction', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const key = await dpopKey('EdDSA')
    const token = await boundToken(s, c, key)
    const verifier = verifierFor(t, s)
    for (const [name, start] of [['express', startExpress], ['fastify', startFastify]] as const) {
      const base = await start(t, verifier, 'https://api.example.com/')
      const proof = (htu: string) => dpopProof(key, { htm: 'GET', htu, iat: nowOf(s), accessToken: token })
      assert.equal((await call(`${base}/api/reports`, { authorization: `DPoP ${token}`, dpop: await proof('https://api.example.com/api/reports') })).status, 200, name)
      assert.equal((await call(`${base}/api/reports`, { authorization: `DPoP ${token}`, dpop: await proof(`${base}/api/reports`) })).body.error, 'invalid_dpop_proof', name)
    }
    for (const origin of ['https://api.example.com/v1', 'ftp://api.example.com', 'api.example.com']) {
      assert.throws(() => keymintExpress({ verifier, origin }), TypeError, origin)
    }
    const only = verifierFor(t, s, { dpop: { algorithms: ['ES256'] } })
    const base = await startFastify(t, only)
    const refused = await call(`${base}/api/reports`, { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { htm: 'GET', htu: `${base}/api/reports`, iat: nowOf(s), accessToken: token }) })
    assert.equal(refused.body.error, 'invalid_dpop_proof', 'EdDSA is not among the algorithms accepted')
    assert.match(refused.challenge, /algs="ES256"$/)
    for (const dpop of [{ algorithms: ['HS256'] }, { algorithms: [] }, { maxAgeSeconds: -1 }, { clockSkewSeconds: Number.NaN }, { maxRememberedProofs: 0 }]) {
      assert.throws(() => createVerifier({ issuer: s.url, audience: s.url, dpop }), TypeError, JSON.stringify(dpop))
    }
  })

  test('verifyRequest: missing credentials are offered both schemes; proofs are remembered for their window only', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const key = await dpopKey()
    const token = await boundToken(s, c, key)
    const verifier = verifierFor(t, s)
    const url = 'https://api.example.com/reports'
    await assert.rejects(verifier.verifyRequest({ authorization: undefined, dpop: undefined, method: 'GET', url }), (err: { missing?: boolean; code?: string }) => err.missing === true && err.code === 'invalid_token')
    const proof = await dpopProof(key, { htm: 'GET', htu: url, iat: nowOf(s), accessToken: token })
    const verified = await verifier.verifyRequest({ authorization: `DPoP ${token}`, dpop: proof, method: 'get', url })
    assert.equal(verified.jkt, key.jkt)
    assert.equal(verified.claims.cnf?.jkt, key.jkt)
    await assert.rejects(verifier.verifyRequest({ authorization: `DPoP ${token}`, dpop: proof, method: 'GET', url }), (err: { code?: string }) => err.code === 'invalid_dpop_proof')
    s.clock.advance(62)
    await assert.rejects(verifier.verifyRequest({ authorization: `DPoP ${token}`, dpop: proof, method: 'GET', url }), (err: { code?: string }) => err.code === 'invalid_dpop_proof', 'and once its window is over, it is too old')
  })
})
