import assert from 'node:assert/strict'
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { test } from 'node:test'
import { CompactEncrypt, SignJWT, type JWTPayload } from 'jose'
import { loadConfig } from '../../src/config.js'
import { startServer } from '../../src/server.js'
import { openServices } from '../../src/services.js'
import { createVerifier, VerifierUnavailableError } from '../../src/verify/index.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { cleanup } from '../helpers/cleanup.js'
import { registerApi, seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { form } from '../helpers/tokens.js'
import { assertRefused, decodePart, encodePart, headerToken, oauth2Token, resourceServerClient, serverPrivateKey, verifierFor } from './support.js'
import { rsaKeyPair } from '../helpers/rsa-keys.js'

/** Signs `payload` ourselves with the server's own signing key, to vary one header or claim at a time. */
async function signWithServerKey(s: TestServer, payload: JWTPayload, header: { typ?: string; kid?: string } = { typ: 'at+jwt' }): Promise<string> {
  const { kid, alg, key } = await serverPrivateKey(s, 'sig')
  return new SignJWT(payload).setProtectedHeader({ alg, kid, ...header }).sign(key)
}

async function encryptTo(key: KeyObject, plaintext: string, header: Record<string, string>): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', ...header }).encrypt(key)
}

describeEachDialect('keymint/verify createVerifier', (dialect) => {
  test('accepts plain tokens of both endpoints and returns their claims and scopes', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const verifier = verifierFor(t, s)
    for (const token of [await headerToken(s, c), await oauth2Token(s, c)]) {
      const verified = await verifier.verify(token)
      assert.equal(verified.encrypted, false)
      assert.equal(verified.header.typ, 'at+jwt')
      assert.equal(verified.claims.iss, s.url)
      assert.equal(verified.claims.client_id, c.clientId)
      assert.equal(verified.claims.account_id, c.accountId)
      assert.equal(verified.claims.client_level, 'subscription')
      assert.deepEqual(verified.scopes, ['all'])
    }
  })

  test('accepts ES256 and EdDSA tokens by default; a narrower pin refuses them', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    // An algorithm's first key is made when a client first needs it and signs at once: issue
    // before the verifier first reads the JWKS, whose refetch for an unknown kid waits 30 s.
    const tokens = new Map<string, string>()
    for (const signingAlg of ['ES256', 'EdDSA']) tokens.set(signingAlg, await oauth2Token(s, await resourceServerClient(s, c, { signingAlg })))
    const verifier = verifierFor(t, s)
    const rsaOnly = verifierFor(t, s, { algorithms: ['RS256'] })
    for (const [signingAlg, token] of tokens) {
      assert.equal((await verifier.verify(token)).header.alg, signingAlg)
      await assertRefused(rsaOnly.verify(token), 'invalid_token', signingAlg)
    }
  })

  test('encrypted tokens: opened with the key as KeyObject or JWK; refused without a key or when malformed', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const { key } = await serverPrivateKey(s, 'enc')
    const withKeyObject = verifierFor(t, s, { decryptionKey: key })
    const withJwk = verifierFor(t, s, { decryptionKey: key.export({ format: 'jwk' }) })
    for (const encrypted of ['true', 'RSA512', 'RSA-OAEP-384']) {
      const jwe = await headerToken(s, c, `encrypted=${encrypted}`)
      assert.equal(jwe.split('.').length, 5)
      for (const verifier of [withKeyObject, withJwk]) {
        const verified = await verifier.verify(jwe)
        assert.equal(verified.encrypted, true)
        assert.equal(verified.claims.client_id, c.clientId)
      }
    }
    await assertRefused(verifierFor(t, s).verify(await headerToken(s, c, 'encrypted=true')), 'invalid_token', 'no decryption key')

    const jws = await headerToken(s, c)
    const publicKey = createPublicKey(key)
    const [h, , sig] = jws.split('.') as [string, string, string]
    const hostile: { name: string; jwe: Promise<string> }[] = [
      { name: 'no cty', jwe: encryptTo(publicKey, jws, {}) },
      { name: 'cty JSON', jwe: encryptTo(publicKey, jws, { cty: 'JSON' }) },
      { name: 'RSA-OAEP with SHA-1', jwe: encryptTo(publicKey, jws, { alg: 'RSA-OAEP', cty: 'JWT' }) },
      { name: 'A128GCM content', jwe: encryptTo(publicKey, jws, { enc: 'A128GCM', cty: 'JWT' }) },
      { name: 'tampered inner token', jwe: encryptTo(publicKey, `${h}.${encodePart({ ...decodePart(jws, 1), scope: 'keymint:admin' })}.${sig}`, { cty: 'JWT' }) },
      { name: 'inner token not a JWS', jwe: encryptTo(publicKey, 'not-a-token', { cty: 'JWT' }) },
      { name: 'to another key', jwe: encryptTo(rsaKeyPair().publicKey, jws, { cty: 'JWT' }) },
      { name: 'cut ciphertext', jwe: headerToken(s, c, 'encrypted=true').then((x) => x.replace(/\.[\w-]{8}([\w-]+\.[\w-]+)$/, '.$1')) },
    ]
    for (const { name, jwe } of hostile) await assertRefused(withKeyObject.verify(await jwe), 'invalid_token', name)
  })

  test("tokens of a registered API with an encryption key: opened with the API's private key (RSA and EC P-256), refused without it", async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const apis = [
      { identifier: 'https://rsa.example.com', pair: rsaKeyPair(), alg: 'RSA-OAEP-512' },
      { identifier: 'https://ec.example.com', pair: generateKeyPairSync('ec', { namedCurve: 'P-256' }), alg: 'ECDH-ES' },
    ]
    for (const { identifier, pair, alg } of apis) {
      await registerApi(s, c.accountId, identifier, { encryptionKey: String(pair.publicKey.export({ format: 'pem', type: 'spki' })), encryptionAlg: alg })
    }
    const other = apis[0]!.pair.privateKey
    for (const { identifier, pair, alg } of apis) {
      const res = await fetch(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, resource: identifier }) })
      const jwe = (await res.json() as { access_token: string }).access_token
      assert.equal(decodePart(jwe, 0).alg, alg)
      const keys = [pair.privateKey, String(pair.privateKey.export({ format: 'pem', type: 'pkcs8' })), pair.privateKey.export({ format: 'jwk' })]
      for (const decryptionKey of keys) {
        const verified = await verifierFor(t, s, { audience: identifier, decryptionKey }).verify(jwe)
        assert.deepEqual([verified.encrypted, verified.claims.aud, verified.claims.client_id], [true, identifier, c.clientId], `${alg} ${typeof decryptionKey}`)
      }
      await assertRefused(verifierFor(t, s, { audience: identifier }).verify(jwe), 'invalid_token', `${alg}: no decryption key`)
      await assertRefused(verifierFor(t, s, { audience: identifier, decryptionKey: (await serverPrivateKey(s, 'enc')).key }).verify(jwe), 'invalid_token', `${alg}: keymint's own key`)
      const wrong = alg === 'ECDH-ES' ? other : rsaKeyPair().privateKey
      await assertRefused(verifierFor(t, s, { audience: identifier, decryptionKey: wrong }).verify(jwe), 'invalid_token', `${alg}: another key`)
      await assertRefused(verifierFor(t, s, { audience: identifier, decryptionKey: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey }).verify(jwe), 'invalid_token', `${alg}: an EC key of another curve`)
      if (alg !== 'ECDH-ES') continue
      const [h, ...rest] = jwe.split('.')
      const header = decodePart(jwe, 0) as { epk: Record<string, string> }
      const withHeader = (changed: Record<string, unknown>) => [encodePart({ ...header, ...changed }), ...rest].join('.')
      const hostile: [string, string][] = [
        ['no epk', withHeader({ epk: undefined })],
        ['epk on P-384', withHeader({ epk: generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }) })],
        ['epk off the curve', withHeader({ epk: { ...header.epk, x: header.epk.y } })],
        ['epk X25519', withHeader({ epk: generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }) })],
        ['epk RSA', withHeader({ epk: rsaKeyPair().publicKey.export({ format: 'jwk' }) })],
        ['alg RSA-OAEP-256', withHeader({ alg: 'RSA-OAEP-256' })],
        ['untouched header, control', [h, ...rest].join('.')],
      ]
      const verifier = verifierFor(t, s, { audience: identifier, decryptionKey: pair.privateKey })
      for (const [name, token] of hostile.slice(0, -1)) await assertRefused(verifier.verify(token), 'invalid_token', name)
      assert.ok(await verifier.verify(hostile.at(-1)![1]))
    }
  })

  test('refuses hostile tokens', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const verifier = verifierFor(t, s)
    const token = await headerToken(s, c)
    const [h, p, sig] = token.split('.') as [string, string, string]
    const claims = decodePart(token, 1)
    const { kid, key } = await serverPrivateKey(s, 'sig')
    const publicPem = createPublicKey(key).export({ type: 'spki', format: 'pem' })
    assert.equal((await verifier.verify(await signWithServerKey(s, claims))).claims.jti, claims.jti, 'control: our own signing with the server key passes')

    const hostile: { name: string; token: string | Promise<string> }[] = [
      { name: 'tampered payload', token: `${h}.${encodePart({ ...claims, scope: 'keymint:admin' })}.${sig}` },
      { name: 'tampered signature', token: `${h}.${p}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}` },
      { name: 'alg none', token: `${encodePart({ alg: 'none', typ: 'at+jwt' })}.${p}.` },
      { name: 'alg none with a signature', token: `${encodePart({ alg: 'none', typ: 'at+jwt', kid })}.${p}.${sig}` },
      { name: 'HS256 keyed with the public key', token: new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid }).sign(new TextEncoder().encode(String(publicPem))) },
      { name: 'typ missing', token: signWithServerKey(s, claims, {}) },
      { name: 'typ JWT', token: signWithServerKey(s, claims, { typ: 'JWT' }) },
      { name: 'nbf in the future', token: signWithServerKey(s, { ...claims, nbf: Math.floor(s.clock.now().getTime() / 1000) + 3600 }) },
      { name: 'no jti', token: signWithServerKey(s, Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'jti'))) },
      { name: 'client_id not a string', token: signWithServerKey(s, { ...claims, client_id: 42 }) },
      { name: 'scope not a string', token: signWithServerKey(s, { ...claims, scope: ['all'] }) },
      { name: 'unknown kid', token: new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'unknown' }).sign(rsaKeyPair().privateKey) },
      { name: 'empty', token: '' },
      { name: 'garbage', token: 'not-a-token' },
      { name: 'four parts', token: `${token}.x` },
      { name: 'five junk parts', token: 'a.b.c.d.e' },
      { name: 'header not JSON', token: `${Buffer.from('{').toString('base64url')}.${p}.${sig}` },
      { name: 'oversized', token: `${h}.${'A'.repeat(20_000)}.${sig}` },
    ]
    for (const c2 of hostile) await assertRefused(verifier.verify(await c2.token), 'invalid_token', c2.name)
  })

  test('wrong audience: refused unless the verifier accepts that audience among others', async (t) => {
    const s = await startTestServer(t, dialect)
    const token = await headerToken(s, await seedClient(s.services))
    await assertRefused(verifierFor(t, s, { audience: 'https://api.other.example' }).verify(token), 'invalid_token')
    assert.ok(await verifierFor(t, s, { audience: ['https://api.other.example', s.url] }).verify(token))
  })

  test("accountId: a verifier pinned to one account refuses another account's token for the shared default audience", async (t) => {
    const s = await startTestServer(t, dialect)
    const a = await seedClient(s.services)
    const b = await seedClient(s.services)
    const [tokenA, tokenB] = [await oauth2Token(s, a), await headerToken(s, b)]
    const unpinned = verifierFor(t, s)
    assert.equal((await unpinned.verify(tokenB)).claims.account_id, b.accountId, 'the default audience is shared by every account')
    const pinned = verifierFor(t, s, { accountId: a.accountId })
    assert.equal((await pinned.verify(tokenA)).claims.account_id, a.accountId)
    await assert.rejects(pinned.verify(tokenB), { name: 'VerifyError', code: 'invalid_token', status: 401, message: 'token was issued to another account' })
    const { key } = await serverPrivateKey(s, 'enc')
    await assertRefused(verifierFor(t, s, { accountId: a.accountId, decryptionKey: key }).verify(await headerToken(s, b, 'encrypted=true')), 'invalid_token', 'encrypted')
  })

  test('expired: accepted inside the clock tolerance, refused after it', async (t) => {
    const s = await startTestServer(t, dialect)
    const token = await headerToken(s, await seedClient(s.services))
    const verifier = verifierFor(t, s)
    const strict = verifierFor(t, s, { clockToleranceSeconds: 0 })
    s.clock.advance(4 * 3600 + 10)
    assert.ok(await verifier.verify(token), 'within the default 30 s')
    await assertRefused(strict.verify(token), 'invalid_token', 'no tolerance')
    s.clock.advance(30)
    await assert.rejects(verifier.verify(token), { code: 'invalid_token', message: 'token expired' })
  })

  test('wrong issuer: a token of another deployment sharing the same keys is refused', async (t) => {
    const a = await startTestServer(t, dialect)
    const c = await seedClient(a.services)
    const services = await openServices(a.config)
    const b = await startServer(loadConfig({ db: a.config.database.url, port: 0, logLevel: 'silent', issuer: 'http://other.keymint.test' }, { KEYMINT_MASTER_KEY: a.config.masterKey.value }), { services })
    cleanup(t, () => b.close())
    const foreign = await headerToken({ ...a, url: b.url }, c)
    assert.equal(decodePart(foreign, 1).iss, 'http://other.keymint.test')
    assert.equal(decodePart(foreign, 0).kid, decodePart(await headerToken(a, c), 0).kid, 'same signing key')
    await assert.rejects(verifierFor(t, a).verify(foreign), { code: 'invalid_token', message: 'token is from another issuer' })
  })

  test('discovery: metadata announcing another issuer or an unreachable server is unavailability, not a refusal', async (t) => {
    const s = await startTestServer(t, dialect)
    const token = await headerToken(s, await seedClient(s.services))
    const aliased = verifierFor(t, s, { issuer: s.url.replace('127.0.0.1', 'localhost') })
    await assert.rejects(aliased.verify(token), VerifierUnavailableError)
    const down = verifierFor(t, s, { fetch: () => Promise.reject(new TypeError('fetch failed')) })
    await assert.rejects(down.verify(token), VerifierUnavailableError)
    const closed = verifierFor(t, s)
    closed.close()
    await assert.rejects(closed.verify(token), VerifierUnavailableError)
  })

  test('configuration: none, HMAC and empty algorithm lists are refused at construction', () => {
    for (const algorithms of [['none'], ['HS256'], ['RS256', 'HS512'], []]) {
      assert.throws(() => createVerifier({ issuer: 'https://auth.example.com', audience: 'x', algorithms }), TypeError, algorithms.join())
    }
    assert.throws(() => createVerifier({ issuer: 'not a url', audience: 'x' }), TypeError)
    assert.throws(() => createVerifier({ issuer: 'https://auth.example.com', audience: [] }), TypeError)
    for (const audience of [undefined, null, '', 42]) {
      assert.throws(() => createVerifier({ issuer: 'https://auth.example.com', audience } as never), { name: 'TypeError', message: /^keymint\/verify: audience must be/ }, String(audience))
    }
    const { publicKey, privateKey } = rsaKeyPair()
    const badKeys: unknown[] = [publicKey, publicKey.export({ format: 'jwk' }), String(publicKey.export({ format: 'pem', type: 'spki' })), 'garbage', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
      generateKeyPairSync('ed25519').privateKey, { kty: 'oct', k: 'c2VjcmV0' }, 42]
    for (const decryptionKey of badKeys) {
      assert.throws(() => createVerifier({ issuer: 'https://auth.example.com', audience: 'x', decryptionKey } as never), { name: 'TypeError', message: /^keymint\/verify: decryptionKey must be a private key/ }, String(decryptionKey))
    }
    assert.ok(createVerifier({ issuer: 'https://auth.example.com', audience: 'x', decryptionKey: String(privateKey.export({ format: 'pem', type: 'pkcs1' })) }))
    for (const accountId of ['', 42, null]) {
      assert.throws(() => createVerifier({ issuer: 'https://auth.example.com', audience: 'x', accountId } as never), { name: 'TypeError', message: /^keymint\/verify: accountId must be/ }, String(accountId))
    }
  })
})
