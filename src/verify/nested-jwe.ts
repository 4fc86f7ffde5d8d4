import { createPrivateKey, KeyObject } from 'node:crypto'
import { compactDecrypt, type JWK } from 'jose'
import { CONTENT_ENCRYPTION_ALGORITHMS, KEY_MANAGEMENT_ALGORITHMS } from './algorithms.js'
import { VerifyError } from './errors.js'
import type { DecryptionKey } from './types.js'

const decoder = new TextDecoder()

/**
 * A decryption key ready for use, with the key management algorithms that fit it.
 *
 * @internal
 */
export interface PreparedDecryptionKey {
  readonly key: KeyObject | CryptoKey
  readonly algorithms: readonly string[]
}

const KEY_HELP = 'a private key: PKCS#8 or PKCS#1 PEM text, a private JWK, a KeyObject or a CryptoKey (RSA for RSA-OAEP-256/384/512; EC P-256/P-384/P-521 or X25519 for ECDH-ES)'

function algorithmsFor(family: string | undefined): readonly string[] {
  if (family === 'rsa' || family === 'RSA-OAEP') return KEY_MANAGEMENT_ALGORITHMS.filter((a) => a.startsWith('RSA-OAEP'))
  if (family === 'ec' || family === 'x25519' || family === 'ECDH' || family === 'X25519') return ['ECDH-ES']
  throw new TypeError(`keymint/verify: decryptionKey must be ${KEY_HELP}`)
}

function toKeyObject(key: DecryptionKey): KeyObject | CryptoKey {
  if (key instanceof KeyObject) return key
  if (typeof key === 'string') {
    if (!/PRIVATE KEY/.test(key)) throw new TypeError(`keymint/verify: decryptionKey must be ${KEY_HELP}`)
    return createPrivateKey(key)
  }
  if (key instanceof CryptoKey) return key
  if (typeof key === 'object' && key !== null && typeof (key as JWK).d === 'string') return createPrivateKey({ key: key as never, format: 'jwk' })
  throw new TypeError(`keymint/verify: decryptionKey must be ${KEY_HELP}`)
}

/**
 * Checks a configured decryption key once, at construction, so a wrong key fails at start.
 *
 * @param key - the caller's key, or undefined when encrypted tokens are not accepted
 * @internal
 */
export function prepareDecryptionKey(key: DecryptionKey | undefined): PreparedDecryptionKey | undefined {
  if (key === undefined) return undefined
  let prepared: KeyObject | CryptoKey
  try {
    prepared = toKeyObject(key)
  } catch (err) {
    if (err instanceof TypeError && err.message.startsWith('keymint/verify:')) throw err
    throw new TypeError(`keymint/verify: decryptionKey must be ${KEY_HELP}`, { cause: err })
  }
  if (prepared.type !== 'private') throw new TypeError(`keymint/verify: decryptionKey must be ${KEY_HELP}`)
  const family = prepared instanceof KeyObject ? prepared.asymmetricKeyType : prepared.algorithm.name
  return { key: prepared, algorithms: algorithmsFor(family) }
}

/**
 * Opens a nested JWT (RFC 7519 §5.2) and returns the signed token inside, which the caller must
 * still verify: encryption says nothing about who wrote the token.
 *
 * @param jwe - the compact JWE
 * @param key - the prepared decryption key, or undefined when none was configured
 * @internal
 */
export async function openNestedJwt(jwe: string, key: PreparedDecryptionKey | undefined): Promise<string> {
  if (key === undefined) throw new VerifyError('invalid_token', 'encrypted tokens are not accepted here', { detail: 'no decryptionKey configured' })
  const { plaintext, protectedHeader } = await compactDecrypt(jwe, key.key, {
    keyManagementAlgorithms: [...key.algorithms],
    contentEncryptionAlgorithms: CONTENT_ENCRYPTION_ALGORITHMS,
  })
  // RFC 7519 §5.2: cty "JWT" marks a nested JWT; the RFC recommends, not requires, upper case.
  if (typeof protectedHeader.cty !== 'string' || protectedHeader.cty.toUpperCase() !== 'JWT') {
    throw new VerifyError('invalid_token', 'token is invalid', { detail: 'encrypted token without cty JWT' })
  }
  return decoder.decode(plaintext)
}
