import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compactVerify, importJWK, decodeProtectedHeader } from 'jose'
import { createCompactSigner, SIGNING_ALGS } from './jws.js'
import { generateSigningKey, importPrivateKey } from './key-generation.js'

for (const alg of SIGNING_ALGS) {
  test(`${alg}: compact JWS verifies with jose against the published JWK`, async () => {
    const key = await generateSigningKey(alg)
    const signer = createCompactSigner({ kid: key.kid, alg, privateKey: importPrivateKey(key.privatePem) }, 'at+jwt')
    const token = signer.sign({ sub: 'x', n: 1, text: 'ünïcode' })
    assert.deepEqual(decodeProtectedHeader(token), { alg, kid: key.kid, typ: 'at+jwt' })
    const { payload } = await compactVerify(token, await importJWK(key.publicJwk, alg))
    assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), { sub: 'x', n: 1, text: 'ünïcode' })
    assert.equal((key.publicJwk as { d?: string }).d, undefined)
  })
}
