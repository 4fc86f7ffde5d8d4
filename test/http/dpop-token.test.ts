import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test } from 'node:test'
import { decodeJwt, exportJWK, SignJWT } from 'jose'
import { createClient, updateClient } from '../../src/domain/clients.js'
import type { AccountId } from '../../src/domain/types.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { dpopKey, dpopProof, unsignedProof, type DPoPKey } from '../helpers/dpop.js'
import { seedClient, startAnotherInstance, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form, verifyAccessToken } from '../helpers/tokens.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

interface Answer { status: number; body: Record<string, unknown>; nonce: string | null }

async function tokenRequest(url: string, c: { clientId: string; clientSecret: string }, headers: Record<string, string> | [string, string][] = {}, path = '/oauth2/token'): Promise<Answer> {
  const h = new Headers(headers)
  h.set('content-type', FORM['content-type'])
  h.set('authorization', basic(c.clientId, c.clientSecret))
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: h, body: form({ grant_type: 'client_credentials' }) })
  return { status: res.status, body: await res.json() as Record<string, unknown>, nonce: res.headers.get('dpop-nonce') }
}

/** Two `DPoP` header lines, as fetch cannot send them (it folds them into one). */
function postWithTwoProofs(url: string, c: { clientId: string; clientSecret: string }, proofs: [string, string]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/oauth2/token`, { method: 'POST' }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown>, nonce: null })
      })
    })
    req.on('error', reject)
    req.setHeader('content-type', FORM['content-type'])
    req.setHeader('authorization', basic(c.clientId, c.clientSecret))
    req.setHeader('DPoP', proofs)
    req.end(form({ grant_type: 'client_credentials' }))
  })
}

const nowOf = (s: TestServer) => Math.floor(s.clock.now().getTime() / 1000)
const proofFor = (s: TestServer, key: DPoPKey, opts: Partial<Parameters<typeof dpopProof>[1]> = {}) =>
  dpopProof(key, { htu: `${s.url}/oauth2/token`, iat: nowOf(s), ...opts })

async function introspect(s: TestServer, caller: SeededClient, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${s.url}/oauth2/introspect`, { method: 'POST', headers: { ...FORM, authorization: basic(caller.clientId, caller.clientSecret) }, body: form({ token }) })
  assert.equal(res.status, 200)
  return res.json() as Promise<Record<string, unknown>>
}

describeEachDialect('DPoP at the token endpoint (RFC 9449)', (dialect) => {
  test('a proof binds the token to its key: cnf.jkt, token_type DPoP, introspection says so; without one, Bearer', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    for (const alg of ['ES256', 'EdDSA', 'RS256', 'PS256', 'ES384'] as const) {
      const key = await dpopKey(alg)
      const answer = await tokenRequest(s.url, c, { DPoP: await proofFor(s, key) })
      assert.equal(answer.status, 200, `${alg}: ${JSON.stringify(answer.body)}`)
      assert.equal(answer.body.token_type, 'DPoP', alg)
      assert.equal(answer.nonce, null, 'no nonce unless nonces are required')
      const token = answer.body.access_token as string
      const { payload } = await verifyAccessToken(s.url, token)
      assert.deepEqual(payload.cnf, { jkt: key.jkt }, alg)
      const seen = await introspect(s, c, token)
      assert.equal(seen.token_type, 'DPoP')
      assert.deepEqual(seen.cnf, { jkt: key.jkt })
    }
    // RFC 9449 §4.3: htu is compared without its query and fragment; the trailing-slash twin has its own URL.
    const key = await dpopKey()
    assert.equal((await tokenRequest(s.url, c, { DPoP: await proofFor(s, key, { htu: `${s.url}/oauth2/token?x=1#f` }) })).status, 200)
    assert.equal((await tokenRequest(s.url, c, { DPoP: await proofFor(s, key, { htu: `${s.url}/oauth2/token/` }) }, '/oauth2/token/')).status, 200)

    const bearer = await tokenRequest(s.url, c)
    assert.equal(bearer.body.token_type, 'Bearer')
    assert.equal(decodeJwt(bearer.body.access_token as string).cnf, undefined)
    const seen = await introspect(s, c, bearer.body.access_token as string)
    assert.equal(seen.token_type, 'Bearer')
    assert.equal(seen.cnf, undefined)

    const metadata = await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>
    assert.ok((metadata.dpop_signing_alg_values_supported as string[]).includes('ES256'))
    assert.ok(!(metadata.dpop_signing_alg_values_supported as string[]).some((a) => a === 'none' || a.startsWith('HS')))
  })

  test('hostile proofs are refused with 400 invalid_dpop_proof, and nothing is issued', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const key = await dpopKey()
    const other = await dpopKey()
    const htu = `${s.url}/oauth2/token`
    const replayed = await proofFor(s, key)
    assert.equal((await tokenRequest(s.url, c, { DPoP: replayed })).status, 200, 'first use')
    const withPrivate = await exportJWK(key.privateKey)
    const hmac = await new SignJWT({ htm: 'POST', htu, iat: nowOf(s), jti: 'h1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' } as never })
      .sign(new TextEncoder().encode('secretsecretsecretsecretsecretsecret'))
    const cases: { name: string; headers: Record<string, string> | [string, string][] }[] = [
      { name: 'a replayed proof', headers: { DPoP: replayed } },
      { name: 'a proof for another URL', headers: { DPoP: await proofFor(s, key, { htu: 'https://elsewhere.example.com/oauth2/token' }) } },
      { name: 'a proof for another path of this server', headers: { DPoP: await proofFor(s, key, { htu: `${s.url}/oauth2/introspect` }) } },
      { name: 'a proof for another method', headers: { DPoP: await proofFor(s, key, { htm: 'GET' }) } },
      { name: 'a stale iat', headers: { DPoP: await proofFor(s, key, { iat: nowOf(s) - 61 }) } },
      { name: 'an iat in the future', headers: { DPoP: await proofFor(s, key, { iat: nowOf(s) + 30 }) } },
      { name: 'alg none', headers: { DPoP: unsignedProof(key, { htu, iat: nowOf(s) }) } },
      { name: 'alg HS256', headers: { DPoP: hmac } },
      { name: 'a jwk with its private parts', headers: { DPoP: await proofFor(s, key, { header: { jwk: withPrivate } }) } },
      { name: 'no jwk', headers: { DPoP: await proofFor(s, key, { header: { jwk: undefined } }) } },
      { name: 'typ JWT', headers: { DPoP: await proofFor(s, key, { header: { typ: 'JWT' } }) } },
      { name: 'signed by another key than its jwk', headers: { DPoP: await proofFor(s, key, { signWith: other.privateKey }) } },
      { name: 'no jti', headers: { DPoP: await proofFor(s, key, { jti: null }) } },
      { name: 'no htu', headers: { DPoP: await proofFor(s, key, { claims: { htu: undefined } }) } },
      { name: 'an expired exp', headers: { DPoP: await proofFor(s, key, { claims: { exp: nowOf(s) - 30 } }) } },
      { name: 'two proofs folded into one header', headers: [['DPoP', await proofFor(s, key)], ['DPoP', await proofFor(s, key)]] },
      { name: 'an empty DPoP header', headers: { DPoP: '' } },
      { name: 'garbage', headers: { DPoP: 'not.a.jwt' } },
      { name: 'far too long', headers: { DPoP: `${'a'.repeat(9000)}.b.c` } },
    ]
    for (const k of cases) {
      const answer = await tokenRequest(s.url, c, k.headers)
      assert.equal(answer.status, 400, `${k.name}: ${JSON.stringify(answer.body)}`)
      assert.equal(answer.body.error, 'invalid_dpop_proof', k.name)
      assert.equal(answer.body.access_token, undefined, k.name)
      assert.equal(typeof answer.body.error_description, 'string')
    }
    const twice = await postWithTwoProofs(s.url, c, [await proofFor(s, key), await proofFor(s, key)])
    assert.deepEqual([twice.status, twice.body.error], [400, 'invalid_dpop_proof'], 'two DPoP header lines')
    // Wrong credentials are still invalid_client: the proof is judged for authenticated clients only.
    assert.equal((await tokenRequest(s.url, { clientId: c.clientId, clientSecret: `kmsk_${'Z'.repeat(43)}` }, { DPoP: await proofFor(s, key) })).body.error, 'invalid_client')

    await s.server.flushUsage()
    const refused = (await s.services.store.audit.list({ limit: 200 })).filter((e) => e.action === 'authentication.refused')
    assert.ok(refused.some((e) => e.reason === 'dpop_proof_replayed' && e.target === c.clientId), JSON.stringify(refused.map((e) => [e.reason, e.details])))
    assert.ok(refused.some((e) => e.reason === 'dpop_proof_invalid' && (e.details as { detail?: string }).detail === 'htu_mismatch'))
    assert.ok(!JSON.stringify(refused).includes(replayed.split('.')[2]!), 'no proof in the audit log')
  })

  test('nonces: required by setting, answered with use_dpop_nonce and DPoP-Nonce, then accepted until they age out', async (t) => {
    const s = await startTestServer(t, dialect, { dpopNonceRequired: 'true' })
    const c = await seedClient(s.services)
    const key = await dpopKey('EdDSA')
    const first = await tokenRequest(s.url, c, { DPoP: await proofFor(s, key) })
    assert.equal(first.status, 400)
    assert.equal(first.body.error, 'use_dpop_nonce')
    assert.match(first.nonce ?? '', /^[\x21\x23-\x5b\x5d-\x7e]+$/, 'RFC 9449 §8.1 nonce syntax')
    const nonce = first.nonce!
    const second = await tokenRequest(s.url, c, { DPoP: await proofFor(s, key, { nonce }) })
    assert.equal(second.status, 200, JSON.stringify(second.body))
    assert.equal(second.body.token_type, 'DPoP')
    assert.equal(second.nonce, nonce, 'the current nonce comes with the token')
    const tagAt = nonce.indexOf('.') + 1
    const flipped = `${nonce.slice(0, tagAt)}${nonce[tagAt] === 'A' ? 'B' : 'A'}${nonce.slice(tagAt + 1)}`
    for (const bad of ['', 'x', `${nonce}x`, flipped, nonce.replace(/.$/, (ch) => ch === 'A' ? 'B' : 'A')]) {
      const answer = await tokenRequest(s.url, c, { DPoP: await proofFor(s, key, { nonce: bad }) })
      assert.deepEqual([answer.status, answer.body.error, answer.nonce], [400, 'use_dpop_nonce', nonce], `nonce ${JSON.stringify(bad)}`)
    }
    s.clock.advance(11 * 60)
    const aged = await tokenRequest(s.url, c, { DPoP: await proofFor(s, key, { nonce }) })
    assert.equal(aged.body.error, 'use_dpop_nonce', 'a nonce ages out')
    assert.notEqual(aged.nonce, nonce)
    assert.equal((await tokenRequest(s.url, c, { DPoP: await proofFor(s, key, { nonce: aged.nonce! }) })).status, 200)
    // Bearer requests are untouched by the nonce setting.
    assert.equal((await tokenRequest(s.url, c)).body.token_type, 'Bearer')
  })

  test('a client set to require DPoP gets nothing without a proof, at either dialect', async (t) => {
    const s = await startTestServer(t, dialect)
    const base = await seedClient(s.services)
    const deps = { store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }
    const { client, keyPair } = await createClient(deps, { accountId: base.accountId, name: 'bound', level: 'subscription', requireDPoP: true })
    assert.equal(client.requireDPoP, true)
    const c = { clientId: keyPair.id, clientSecret: keyPair.secret }
    const without = await tokenRequest(s.url, c)
    assert.deepEqual([without.status, without.body.error], [400, 'invalid_dpop_proof'])
    const header = await fetch(`${s.url}/auth/oauth`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret } })
    assert.equal(header.status, 400)
    assert.equal((await header.json() as { error: string }).error, 'unauthorized_client')
    const key = await dpopKey()
    const bound = await tokenRequest(s.url, c, { DPoP: await proofFor(s, key) })
    assert.deepEqual([bound.status, bound.body.token_type], [200, 'DPoP'])

    await updateClient(deps, { clientId: client.id, requireDPoP: false })
    assert.equal((await tokenRequest(s.url, c)).body.token_type, 'Bearer', 'once the requirement is lifted')
    const events = await s.services.store.audit.list({ accountId: base.accountId as AccountId, limit: 50 })
    assert.ok(events.some((e) => e.action === 'client.created' && (e.details as { requireDPoP?: boolean }).requireDPoP === true))
    assert.ok(events.some((e) => e.action === 'client.updated' && (e.details as { requireDPoP?: boolean }).requireDPoP === false))
    await s.server.flushUsage()
    const refused = await s.services.store.audit.list({ limit: 50 })
    assert.ok(refused.some((e) => e.action === 'authentication.refused' && e.reason === 'dpop_proof_missing' && e.target === c.clientId))
  })

  test("keymint's own API refuses a DPoP-bound token presented as a bearer token", async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services, { clientScopes: ['keymint:clients:read'] })
    const key = await dpopKey()
    const bound = await tokenRequest(s.url, c, { DPoP: await proofFor(s, key) })
    const plain = await tokenRequest(s.url, c)
    const call = (token: string) => fetch(`${s.url}/api/v1/clients`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal((await call(plain.body.access_token as string)).status, 200)
    const refused = await call(bound.body.access_token as string)
    assert.equal(refused.status, 401)
    assert.match(refused.headers.get('www-authenticate') ?? '', /invalid_token/)
  })

  test('two instances on one database: a proof accepted by one is refused by the other; nonces work on both', async (t) => {
    const first = await startTestServer(t, dialect, { dpopNonceRequired: 'true' })
    const second = await startAnotherInstance(t, first, { dpopNonceRequired: 'true' })
    const c = await seedClient(first.services)
    const key = await dpopKey()
    const { nonce } = await tokenRequest(first.url, c, { DPoP: await proofFor(first, key) })
    assert.ok(nonce)
    // The proof names the issuer's token endpoint, which both instances serve.
    const proof = await proofFor(first, key, { nonce })
    const accepted = await tokenRequest(first.url, c, { DPoP: proof })
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body))
    const replayed = await tokenRequest(second.url, c, { DPoP: proof })
    assert.deepEqual([replayed.status, replayed.body.error], [400, 'invalid_dpop_proof'])
    const fresh = await tokenRequest(second.url, c, { DPoP: await proofFor(first, key, { nonce }) })
    assert.equal(fresh.status, 200, "the first instance's nonce is good on the second")
  })
})
