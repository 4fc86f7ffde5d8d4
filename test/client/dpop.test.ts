import assert from 'node:assert/strict'
import { test } from 'node:test'
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose'
import { TokenClient, TokenError } from '../../src/client/index.js'
import { createClient } from '../../src/domain/clients.js'
import { VerifyError } from '../../src/verify/index.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer } from '../helpers/server.js'
import { verifierFor } from '../verify/support.js'
import { listen, recordingFetch } from './fixtures.js'

const RS_NONCE = 'rs-nonce-1'

describeEachDialect('keymint/client with DPoP', (dialect) => {
  test('answers a resource server\'s use_dpop_nonce once with a new proof, then sends its nonce at once', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const verifier = verifierFor(t, s)
    const seen: (string | undefined)[] = []
    // RFC 9449 §9: a resource server that wants its own nonce in every proof.
    const api = await listen(t, async (req, res) => {
      const proof = typeof req.headers.dpop === 'string' ? req.headers.dpop : undefined
      const nonce = proof === undefined ? undefined : decodeJwt(proof).nonce as string | undefined
      seen.push(nonce)
      if (nonce !== RS_NONCE) {
        res.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"', 'dpop-nonce': RS_NONCE }).end()
        return
      }
      try {
        const token = await verifier.verifyRequest({ authorization: req.headers.authorization, dpop: req.headers.dpop, method: req.method ?? 'GET', url: `http://${req.headers.host}${req.url}` })
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jkt: token.jkt }))
      } catch (err) {
        res.writeHead(err instanceof VerifyError ? err.status : 500).end()
      }
    })
    const rec = recordingFetch()
    const tokens = new TokenClient({ issuer: s.url, clientId: c.clientId, clientSecret: c.clientSecret, dpop: true, fetch: rec.fetch })
    const first = await tokens.fetch(`${api}/reports`, { method: 'POST', body: JSON.stringify({ a: 1 }) })
    assert.equal(first.status, 200)
    assert.deepEqual(seen, [undefined, RS_NONCE])
    assert.equal(rec.count('/oauth2/token'), 1, 'a nonce challenge is no reason for a new token')
    const second = await tokens.fetch(new Request(`${api}/reports`))
    assert.equal(second.status, 200)
    assert.deepEqual(seen, [undefined, RS_NONCE, RS_NONCE], 'the nonce is remembered for that origin')
  })

  test('a key of its own binds the tokens; a client that requires DPoP is told so without one', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const tokens = new TokenClient({ tokenEndpoint: `${s.url}/oauth2/token`, clientId: c.clientId, clientSecret: c.clientSecret, dpop: { keyPair: { alg: 'ES256', privateKey, publicKey } } })
    const issued = await tokens.getTokenResponse()
    assert.equal(issued.tokenType, 'DPoP')
    assert.deepEqual(decodeJwt(issued.accessToken).cnf, { jkt: await calculateJwkThumbprint(await exportJWK(publicKey)) })
    const proof = decodeJwt(await tokens.dpopProof('get', 'https://api.example.com/x?y=1#z', issued.accessToken))
    assert.deepEqual([proof.htm, proof.htu, typeof proof.ath, typeof proof.jti], ['GET', 'https://api.example.com/x', 'string', 'string'])

    const { keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
      accountId: c.accountId, name: 'bound', level: 'subscription', requireDPoP: true,
    })
    const rec = recordingFetch()
    const plain = new TokenClient({ issuer: s.url, clientId: keyPair.id, clientSecret: keyPair.secret, fetch: rec.fetch })
    await assert.rejects(plain.getToken(), (err: unknown) => err instanceof TokenError && err.error === 'invalid_dpop_proof' && err.status === 400)
    assert.equal(rec.count('/oauth2/token'), 1, 'not retried')
    await assert.rejects(plain.dpopProof('GET', 'https://api.example.com/'), TypeError)
  })
})

test('a server that answers a proof with a bearer token is refused: the token would not be sender-constrained', async (t) => {
  const server = await listen(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'abc.def.ghi', token_type: 'Bearer', expires_in: 60 }))
  })
  const tokens = new TokenClient({ tokenEndpoint: `${server}/token`, clientId: 'id', clientSecret: 'secret', dpop: true, maxRetries: 0 })
  await assert.rejects(tokens.getToken(), (err: unknown) => err instanceof TokenError && err.error === 'invalid_response')
})

test('DPoP options are checked at construction', () => {
  const base = { issuer: 'https://id.example.com', clientId: 'id', clientSecret: 'secret' }
  for (const dpop of [{ alg: 'HS256' }, { alg: 'none' }, { keyPair: { alg: 'none', privateKey: {}, publicKey: {} } }, { keyPair: { alg: 'ES256' } }, 'yes', 1]) {
    assert.throws(() => new TokenClient({ ...base, dpop: dpop as never }), TypeError, JSON.stringify(dpop))
  }
  assert.throws(() => new TokenClient({ ...base, dialect: 'header', dpop: true }), TypeError, 'the header dialect carries no proof')
  assert.doesNotThrow(() => new TokenClient({ ...base, dpop: false }))
})
