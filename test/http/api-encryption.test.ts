import assert from 'node:assert/strict'
import { generateKeyPair, generateKeyPairSync, generateKeySync, type KeyObject } from 'node:crypto'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, compactDecrypt, decodeProtectedHeader, type JWK } from 'jose'
import { createClient } from '../../src/domain/clients.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { registerApi, seedClient, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { adminOf } from '../helpers/management.js'
import { basic, form, verifyAccessToken } from '../helpers/tokens.js'
import { rsaKeyPair } from '../helpers/rsa-keys.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }
const API = 'https://assets.example.com'

const pem = (key: KeyObject) => String(key.export({ format: 'pem', type: 'spki' }))

async function oauth2(s: TestServer, c: { clientId: string; clientSecret: string }, fields: Record<string, string>): Promise<Response> {
  return fetch(`${s.url}/oauth2/token`, { method: 'POST', headers: { ...FORM, authorization: basic(c.clientId, c.clientSecret) }, body: form({ grant_type: 'client_credentials', ...fields }) })
}

async function accessToken(res: Response): Promise<string> {
  assert.equal(res.status, 200, await res.clone().text())
  return (await res.json() as { access_token: string }).access_token
}

async function headerToken(s: TestServer, c: SeededClient, fields: Record<string, string>): Promise<string> {
  const res = await fetch(`${s.url}/auth/oauth`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret, ...FORM }, body: form(fields) })
  assert.equal(res.status, 200, await res.clone().text())
  return res.text()
}

async function open(jwe: string, key: KeyObject, alg: string): Promise<string> {
  const { plaintext } = await compactDecrypt(jwe, key, { keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: ['A256GCM'] })
  return new TextDecoder().decode(plaintext)
}

const thumbprint = (key: KeyObject) => calculateJwkThumbprint(key.export({ format: 'jwk' }) as JWK, 'sha256')

// A 3072-bit RSA key takes a second or more of CPU to make: made off the event loop, so the
// servers of this process's other tests keep answering meanwhile.
const rsa3072 = () => promisify(generateKeyPair)('rsa', { modulusLength: 3072 })

describeEachDialect('tokens for an API with an encryption key', (dialect) => {
  const keys = [
    { name: 'RSA, default RSA-OAEP-256', pair: () => rsaKeyPair(), alg: undefined, expect: 'RSA-OAEP-256' },
    { name: 'RSA, RSA-OAEP-512', pair: rsa3072, alg: 'RSA-OAEP-512', expect: 'RSA-OAEP-512' },
    { name: 'EC P-256, ECDH-ES', pair: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }), alg: undefined, expect: 'ECDH-ES' },
    { name: 'X25519, ECDH-ES', pair: () => generateKeyPairSync('x25519'), alg: 'ECDH-ES', expect: 'ECDH-ES' },
  ] as const
  for (const k of keys) {
    test(`${k.name}: every token for the API is a nested JWT to its key, whatever encrypted= or the client asks`, async (t) => {
      const s = await startTestServer(t, dialect)
      const c = await seedClient(s.services)
      const { publicKey, privateKey } = await k.pair()
      const api = await registerApi(s, c.accountId, API, { encryptionKey: pem(publicKey), ...(k.alg ? { encryptionAlg: k.alg } : {}) })
      const kid = await thumbprint(publicKey)
      assert.deepEqual([api.encryption?.kid, api.encryption?.alg], [kid, k.expect])
      const sealed = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
        accountId: c.accountId, name: 'always-encrypts', level: 'subscription', tokenEncryption: 'RSA-OAEP-384',
      })
      const tokens = [
        await accessToken(await oauth2(s, c, { resource: API })),
        await accessToken(await oauth2(s, c, { audience: API })),
        await accessToken(await oauth2(s, { clientId: sealed.keyPair.id, clientSecret: sealed.keyPair.secret }, { resource: API })),
        await headerToken(s, c, { resource: API }),
        await headerToken(s, c, { resource: API, encrypted: 'RSA512' }),
      ]
      const serverKid = (await s.services.store.serverKeys.listAll()).find((r) => r.use === 'enc')?.kid
      for (const jwe of tokens) {
        assert.equal(jwe.split('.').length, 5, 'compact JWE')
        const { epk, ...header } = decodeProtectedHeader(jwe)
        assert.deepEqual(header, { alg: k.expect, enc: 'A256GCM', cty: 'JWT', kid })
        assert.notEqual(header.kid, serverKid)
        assert.equal(epk === undefined, k.expect !== 'ECDH-ES', 'ECDH-ES carries its ephemeral key')
        const { payload } = await verifyAccessToken(s.url, await open(jwe, privateKey, k.expect), API)
        assert.equal(payload.aud, API)
        assert.equal(payload.account_id, c.accountId)
      }
      // Without `resource` the API's key plays no part: the default audience, signed only.
      assert.equal((await accessToken(await oauth2(s, c, {}))).split('.').length, 3)
    })
  }

  test("keymint cannot open tokens encrypted to an API's key: introspection answers for the inner signed token", async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const rs = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, { accountId: c.accountId, name: 'assets-api', level: 'subscription' })
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    await registerApi(s, c.accountId, API, { encryptionKey: JSON.stringify(publicKey.export({ format: 'jwk' })) })
    const jwe = await accessToken(await oauth2(s, c, { resource: API }))
    const introspect = async (token: string) => {
      const res = await fetch(`${s.url}/oauth2/introspect`, { method: 'POST', headers: { ...FORM, authorization: basic(rs.keyPair.id, rs.keyPair.secret) }, body: form({ token }) })
      assert.equal(res.status, 200)
      return res.json() as Promise<Record<string, unknown>>
    }
    assert.deepEqual(await introspect(jwe), { active: false })
    const signed = await open(jwe, privateKey, 'ECDH-ES')
    const inner = await introspect(signed)
    assert.deepEqual([inner.active, inner.aud, inner.client_id, inner.account_id], [true, API, c.clientId, c.accountId])
    // Revocation likewise takes the inner token, and then covers the encrypted one too.
    const revoked = await fetch(`${s.url}/oauth2/revoke`, { method: 'POST', headers: { ...FORM, authorization: basic(rs.keyPair.id, rs.keyPair.secret) }, body: form({ token: signed }) })
    assert.equal(revoked.status, 200)
    assert.deepEqual(await introspect(signed), { active: false })
  })

  test('POST /api/v1/apis takes encryption_key and encryption_alg and shows only the thumbprint and algorithm', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const { publicKey, privateKey } = rsaKeyPair()
    const created = await call('POST', '/apis', { identifier: API, encryption_key: pem(publicKey), encryption_alg: 'RSA-OAEP-384' })
    assert.equal(created.status, 201)
    assert.deepEqual([created.body.encryption_kid, created.body.encryption_alg], [await thumbprint(publicKey), 'RSA-OAEP-384'])
    assert.equal((await call('GET', '/apis')).body.items[0].encryption_kid, created.body.encryption_kid)
    const plain = await call('POST', '/apis', { identifier: 'https://plain.example.com' })
    assert.deepEqual([plain.body.encryption_kid, plain.body.encryption_alg], [null, null])

    const rsa = () => pem(rsaKeyPair().publicKey)
    const privatePem = String(privateKey.export({ format: 'pem', type: 'pkcs8' }))
    const privateJwk = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }))
    const hostile: { name: string; body: Record<string, unknown> }[] = [
      { name: 'private PEM', body: { encryption_key: privatePem } },
      { name: 'private JWK', body: { encryption_key: privateJwk } },
      { name: 'symmetric JWK', body: { encryption_key: JSON.stringify(generateKeySync('hmac', { length: 256 }).export({ format: 'jwk' })) } },
      { name: 'RSA 1024', body: { encryption_key: pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey) } },
      { name: 'Ed25519', body: { encryption_key: pem(generateKeyPairSync('ed25519').publicKey) } },
      { name: 'secp256k1', body: { encryption_key: pem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey) } },
      { name: 'garbage', body: { encryption_key: 'kmsk_not-a-key' } },
      { name: 'RSA key with ECDH-ES', body: { encryption_key: rsa(), encryption_alg: 'ECDH-ES' } },
      { name: 'EC key with RSA-OAEP-256', body: { encryption_key: pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey), encryption_alg: 'RSA-OAEP-256' } },
      { name: 'RSA1_5', body: { encryption_key: rsa(), encryption_alg: 'RSA1_5' } },
      { name: 'alg without key', body: { encryption_alg: 'RSA-OAEP-256' } },
      { name: 'key not a string', body: { encryption_key: { kty: 'RSA' } } },
      { name: 'key too long', body: { encryption_key: 'A'.repeat(20_001) } },
    ]
    for (const { name, body } of hostile) {
      const res = await call('POST', '/apis', { identifier: 'https://hostile.example.com', ...body })
      assert.equal(res.status, 400, name)
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/, name)
      assert.equal(res.body.status, 400, name)
      const text = JSON.stringify(res.body)
      assert.ok(!text.includes('kmsk_') && !text.includes('PRIVATE') && !text.includes(JSON.parse(privateJwk).d), `${name}: nothing of the key is echoed`)
    }
    assert.equal((await call('GET', '/apis')).body.items.length, 2, 'nothing was registered')
    const doc = await (await fetch(`${s.url}/api/v1/openapi.json`)).json() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>> }
    const bodySchema = doc.paths['/api/v1/apis']?.post?.requestBody?.content['application/json']?.schema
    assert.ok(bodySchema?.properties.encryption_key && bodySchema.properties.encryption_alg)
  })
})
