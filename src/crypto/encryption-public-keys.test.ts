import assert from 'node:assert/strict'
import { generateKeyPairSync, generateKeySync } from 'node:crypto'
import { test } from 'node:test'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { parseEncryptionPublicKey } from './encryption-public-keys.js'
import { PublicKeyError } from './public-keys.js'
import { rsaKeyPair } from '../../test/helpers/rsa-keys.js'

const pem = (k: { export(o: object): string | Buffer }, type: 'spki' | 'pkcs8' = 'spki') => String(k.export({ format: 'pem', type }))
const jwkText = (k: { export(o: object): unknown }, extra: object = {}) => JSON.stringify({ ...(k.export({ format: 'jwk' }) as object), ...extra })

test('accepts RSA, EC P-256/384/521 and X25519 public keys as PEM or JWK; kid is the RFC 7638 thumbprint', async () => {
  const rsa = rsaKeyPair()
  const parsed = await parseEncryptionPublicKey(pem(rsa.publicKey))
  assert.equal(parsed.alg, 'RSA-OAEP-256')
  assert.deepEqual(Object.keys(parsed.publicJwk).sort(), ['e', 'kty', 'n'])
  assert.equal(parsed.kid, await calculateJwkThumbprint(rsa.publicKey.export({ format: 'jwk' }) as JWK, 'sha256'))
  assert.equal((await parseEncryptionPublicKey(jwkText(rsa.publicKey), 'RSA-OAEP-512')).alg, 'RSA-OAEP-512')
  assert.equal((await parseEncryptionPublicKey(jwkText(rsa.publicKey, { alg: 'RSA-OAEP-384', use: 'enc' }))).alg, 'RSA-OAEP-384')
  for (const namedCurve of ['P-256', 'P-384', 'P-521']) {
    const ec = generateKeyPairSync('ec', { namedCurve })
    assert.equal((await parseEncryptionPublicKey(pem(ec.publicKey))).alg, 'ECDH-ES', namedCurve)
    assert.equal((await parseEncryptionPublicKey(jwkText(ec.publicKey), 'ECDH-ES')).publicJwk.crv, namedCurve)
  }
  const x = generateKeyPairSync('x25519')
  assert.deepEqual((await parseEncryptionPublicKey(jwkText(x.publicKey))).publicJwk.crv, 'X25519')
})

test('refuses private, symmetric, weak and non-encryption keys, and algorithms that do not fit the key', async () => {
  const rsa = rsaKeyPair()
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const hostile: [string, string, string?][] = [
    ['private PEM', pem(rsa.privateKey, 'pkcs8')],
    ['private JWK', jwkText(ec.privateKey)],
    ['symmetric JWK', JSON.stringify(generateKeySync('aes', { length: 256 }).export({ format: 'jwk' }))],
    ['RSA 1024', pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)],
    ['RSA-PSS', pem(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey)],
    ['secp256k1', pem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)],
    ['Ed25519', pem(generateKeyPairSync('ed25519').publicKey)],
    ['X448', pem(generateKeyPairSync('x448').publicKey)],
    ['garbage', 'not a key'],
    ['JSON array', '[1]'],
    ['oversized', `{"kty":"RSA","n":"${'A'.repeat(30_000)}"}`],
    ['RSA key, ECDH-ES', pem(rsa.publicKey), 'ECDH-ES'],
    ['EC key, RSA-OAEP-256', pem(ec.publicKey), 'RSA-OAEP-256'],
    ['RSA1_5', pem(rsa.publicKey), 'RSA1_5'],
    ['RSA-OAEP (SHA-1)', pem(rsa.publicKey), 'RSA-OAEP'],
    ['dir', pem(rsa.publicKey), 'dir'],
    ['JWK for signing', jwkText(rsa.publicKey, { use: 'sig' })],
    ['JWK alg differs', jwkText(rsa.publicKey, { alg: 'RSA-OAEP-512' }), 'RSA-OAEP-256'],
    ['JWK alg unsupported', jwkText(rsa.publicKey, { alg: 'RS256' })],
  ]
  for (const [name, text, alg] of hostile) {
    await assert.rejects(parseEncryptionPublicKey(text, alg), PublicKeyError, name)
  }
})
