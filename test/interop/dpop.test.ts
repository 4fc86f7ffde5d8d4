import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import express from 'express'
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'
import { TokenClient } from '../../src/client/index.js'
import { keymintExpress, type TokenRequest } from '../../src/verify/index.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { dpopProof } from '../helpers/dpop.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { verifierFor } from '../verify/support.js'

/** A resource server: Express 5 with keymint/verify in front of `/api`. */
async function startApi(t: TestContext, s: TestServer): Promise<string> {
  const app = express()
  app.use('/api', keymintExpress({ verifier: verifierFor(t, s) }))
  app.get('/api/reports', (req, res) => { res.json({ jkt: (req as unknown as TokenRequest).token?.jkt ?? null }) })
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A `fetch` that keeps every request it sends, with its headers. */
function capturingFetch() {
  const sent: { method: string; url: string; headers: Headers }[] = []
  const capture = (url: string | URL | Request, init?: RequestInit) => {
    const request = new Request(url, init)
    sent.push({ method: request.method, url: request.url, headers: new Headers(request.headers) })
    return fetch(url, init)
  }
  return { fetch: capture as typeof fetch, sent }
}

const thumbprintOf = async (publicKey: CryptoKey) => calculateJwkThumbprint(await exportJWK(publicKey))

describeEachDialect('DPoP interoperability: real clients against keymint, keymint/verify as the resource server', (dialect) => {
  test('openid-client v6: its DPoP handle gets a bound token through the nonce challenge and calls the API; replays and stray uses are refused', async (t) => {
    const s = await startTestServer(t, dialect, { dpopNonceRequired: 'true' })
    const c = await seedClient(s.services)
    const api = await startApi(t, s)
    const capture = capturingFetch()
    const config = await client.discovery(new URL(s.url), c.clientId, undefined, client.ClientSecretBasic(c.clientSecret), { execute: [client.allowInsecureRequests], algorithm: 'oauth2' })
    config[client.customFetch] = capture.fetch as unknown as client.CustomFetch
    const keyPair = await client.randomDPoPKeyPair('ES256')
    const DPoP = client.getDPoPHandle(config, keyPair)

    const tokens = await client.clientCredentialsGrant(config, {}, { DPoP })
    assert.equal(tokens.token_type, 'dpop')
    assert.deepEqual(decodeJwt(tokens.access_token).cnf, { jkt: await thumbprintOf(keyPair.publicKey) })
    const tokenCalls = capture.sent.filter((r) => r.url.endsWith('/oauth2/token'))
    assert.equal(tokenCalls.length, 2, 'refused once with use_dpop_nonce, then sent again with the nonce')
    assert.equal(decodeJwt(tokenCalls[0]!.headers.get('dpop')!).nonce, undefined)
    assert.equal(typeof decodeJwt(tokenCalls[1]!.headers.get('dpop')!).nonce, 'string')

    const url = new URL(`${api}/api/reports`)
    const res = await client.fetchProtectedResource(config, tokens.access_token, url, 'GET', undefined, undefined, { DPoP })
    assert.equal(res.status, 200)
    assert.equal((await res.json() as { jkt: string }).jkt, await thumbprintOf(keyPair.publicKey))
    const apiCall = capture.sent.find((r) => r.url === url.href)!
    const proof = apiCall.headers.get('dpop')!
    assert.match(apiCall.headers.get('authorization') ?? '', /^DPoP /)

    const refusals: [string, RequestInit & { url?: string }, string][] = [
      ['a replayed proof', { headers: { authorization: `DPoP ${tokens.access_token}`, dpop: proof } }, 'invalid_dpop_proof'],
      ['a proof for another URL', { url: `${api}/api/reports/2024`, headers: { authorization: `DPoP ${tokens.access_token}`, dpop: proof } }, 'invalid_dpop_proof'],
      ['the token without its proof', { headers: { authorization: `DPoP ${tokens.access_token}` } }, 'invalid_dpop_proof'],
      ['the token as a bearer token', { headers: { authorization: `Bearer ${tokens.access_token}` } }, 'invalid_token'],
    ]
    for (const [name, init, error] of refusals) {
      const refused = await fetch(init.url ?? url, init)
      assert.equal(refused.status, 401, name)
      assert.equal((await refused.json() as { error: string }).error, error, name)
      assert.match(refused.headers.get('www-authenticate') ?? '', new RegExp(`^DPoP error="${error}"`), name)
    }
  })

  test("oauth4webapi: its DPoP handle through use_dpop_nonce, its protected resource request, and its own resource-server check of keymint's tokens", async (t) => {
    const s = await startTestServer(t, dialect, { dpopNonceRequired: 'true' })
    const c = await seedClient(s.services)
    const api = await startApi(t, s)
    const issuer = new URL(s.url)
    const insecure = { [oauth.allowInsecureRequests]: true }
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
    const cl: oauth.Client = { client_id: c.clientId }
    const keyPair = await oauth.generateKeyPair('EdDSA', { extractable: true })
    const DPoP = oauth.DPoP(cl, keyPair)
    const grant = () => oauth.clientCredentialsGrantRequest(as, cl, oauth.ClientSecretBasic(c.clientSecret), new URLSearchParams(), { DPoP, ...insecure })
      .then((response) => oauth.processClientCredentialsResponse(as, cl, response))
    await assert.rejects(grant(), (err: unknown) => oauth.isDPoPNonceError(err), 'the first request learns the nonce')
    const result = await grant()
    assert.equal(result.token_type, 'dpop')
    const jkt = await DPoP.calculateThumbprint()
    assert.deepEqual(decodeJwt(result.access_token).cnf, { jkt })

    const url = new URL(`${api}/api/reports`)
    const res = await oauth.protectedResourceRequest(result.access_token, 'GET', url, undefined, undefined, { DPoP, ...insecure })
    assert.equal(res.status, 200)
    assert.equal((await res.json() as { jkt: string }).jkt, jkt)

    // oauth4webapi as the resource server: keymint's bound token and a proof for it pass its RFC 9449 checks.
    const key = { alg: 'EdDSA', privateKey: keyPair.privateKey, publicKey: keyPair.publicKey, jwk: await exportJWK(keyPair.publicKey), jkt }
    const resourceUrl = 'https://api.example.com/reports'
    const request = new Request(resourceUrl, {
      headers: {
        authorization: `DPoP ${result.access_token}`,
        dpop: await dpopProof(key, { htm: 'GET', htu: resourceUrl, accessToken: result.access_token }),
      },
    })
    const claims = await oauth.validateJwtAccessToken(as, request, s.url, { requireDPoP: true, ...insecure })
    assert.equal(claims.cnf?.jkt, jkt)
    const asBearer = new Request(resourceUrl, { headers: { authorization: `Bearer ${result.access_token}` } })
    await assert.rejects(oauth.validateJwtAccessToken(as, asBearer, s.url, insecure), 'oauth4webapi refuses it without a proof too')
  })

  test('keymint/client with dpop: a bound token through the nonce challenge, and fetch with DPoP to keymint/verify', async (t) => {
    const s = await startTestServer(t, dialect, { dpopNonceRequired: 'true' })
    const c = await seedClient(s.services)
    const api = await startApi(t, s)
    const capture = capturingFetch()
    const tokens = new TokenClient({ issuer: s.url, clientId: c.clientId, clientSecret: c.clientSecret, dpop: { alg: 'EdDSA' }, fetch: capture.fetch })
    const issued = await tokens.getTokenResponse()
    assert.equal(issued.tokenType, 'DPoP')
    const jkt = (decodeJwt(issued.accessToken).cnf as { jkt: string }).jkt
    assert.equal(capture.sent.filter((r) => r.url.endsWith('/oauth2/token')).length, 2, 'use_dpop_nonce, then the nonce')
    for (let i = 0; i < 3; i++) {
      const res = await tokens.fetch(`${api}/api/reports?page=${i}`)
      assert.equal(res.status, 200)
      assert.equal((await res.json() as { jkt: string }).jkt, jkt, 'one key for the client\'s lifetime')
    }
    const headers = await tokens.requestHeaders('GET', `${api}/api/reports`)
    assert.match(headers.authorization ?? '', /^DPoP /)
    assert.equal((await fetch(`${api}/api/reports`, { headers })).status, 200)
    assert.equal((await fetch(`${api}/api/reports`, { headers })).status, 401, 'a proof works once')
    tokens.invalidate()
    assert.equal((await tokens.getTokenResponse()).tokenType, 'DPoP')
    assert.equal(capture.sent.filter((r) => r.url.endsWith('/oauth2/token')).length, 3, 'the remembered nonce is sent at once')
  })
})
