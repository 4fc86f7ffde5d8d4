import { calculateJwkThumbprint, type JWK } from 'jose'
import { PublicKeyError, readPublicKey } from './public-keys.js'

/** JWE key management algorithms a token can be encrypted to a third party's key with (RFC 7518 §4.3, §4.6). */
export type KeyManagementAlg = 'RSA-OAEP-256' | 'RSA-OAEP-384' | 'RSA-OAEP-512' | 'ECDH-ES'
export const KEY_MANAGEMENT_ALGS: readonly KeyManagementAlg[] = ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512', 'ECDH-ES']

/** A public key tokens are encrypted to: its RFC 7638 thumbprint as `kid`, and the one algorithm used with it. */
export interface EncryptionPublicKey {
  readonly kid: string
  readonly alg: KeyManagementAlg
  /** Public members only (`kty`, `n`, `e`, `crv`, `x`, `y`). */
  readonly publicJwk: Readonly<Record<string, string>>
}

const CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }
// Bounded above too: every token for the API is encrypted to this key on the token path.
const RSA_BITS = { min: 2048, max: 8192 }
const SUPPORTED = `supported: RSA (${RSA_BITS.min}-${RSA_BITS.max} bits) with RSA-OAEP-256, RSA-OAEP-384 or RSA-OAEP-512; EC P-256, P-384, P-521 or X25519 with ECDH-ES`

function keyFamily(type: string | undefined, details: { modulusLength?: number; namedCurve?: string } | undefined): 'rsa' | 'ecdh' {
  if (type === 'rsa') {
    const bits = details?.modulusLength ?? 0
    if (bits < RSA_BITS.min || bits > RSA_BITS.max) throw new PublicKeyError(`RSA encryption keys must be ${RSA_BITS.min} to ${RSA_BITS.max} bits`)
    return 'rsa'
  }
  if (type === 'ec') {
    if (CURVES[details?.namedCurve ?? ''] === undefined) throw new PublicKeyError(`EC encryption keys must be on P-256, P-384 or P-521; ${SUPPORTED}`)
    return 'ecdh'
  }
  if (type === 'x25519') return 'ecdh'
  // RSA-PSS keys are for signatures only; Ed25519 and the rest cannot encrypt.
  throw new PublicKeyError(`this key cannot be used for encryption; ${SUPPORTED}`)
}

function chooseAlg(family: 'rsa' | 'ecdh', requested: string | undefined, jwkAlg: unknown): KeyManagementAlg {
  if (jwkAlg !== undefined && typeof jwkAlg !== 'string') throw new PublicKeyError('the JWK\'s alg must be a string')
  // RFC 7517 §4.4: a JWK's `alg` names the one algorithm the key is meant for.
  if (requested !== undefined && jwkAlg !== undefined && requested !== jwkAlg) {
    throw new PublicKeyError('the JWK\'s alg differs from the requested encryption algorithm')
  }
  const alg = requested ?? jwkAlg ?? (family === 'rsa' ? 'RSA-OAEP-256' : 'ECDH-ES')
  if (!(KEY_MANAGEMENT_ALGS as readonly string[]).includes(alg)) throw new PublicKeyError(`unsupported encryption algorithm; ${SUPPORTED}`)
  if ((alg === 'ECDH-ES') !== (family === 'ecdh')) {
    throw new PublicKeyError(alg === 'ECDH-ES' ? 'ECDH-ES needs an EC (P-256, P-384, P-521) or X25519 key' : `${alg} needs an RSA key`)
  }
  return alg as KeyManagementAlg
}

/**
 * Reads a public encryption key from PEM or JWK text and the algorithm to use with it
 * (default: RSA-OAEP-256 for RSA keys, ECDH-ES for EC and X25519 keys, or the JWK's own `alg`).
 * Private keys, symmetric keys and keys that cannot encrypt are refused with a PublicKeyError.
 */
export async function parseEncryptionPublicKey(text: string, requestedAlg?: string): Promise<EncryptionPublicKey> {
  const { key, jwk } = readPublicKey(text)
  if (jwk?.use !== undefined && jwk.use !== 'enc') throw new PublicKeyError('this JWK is marked for another use than encryption (use must be "enc")')
  const family = keyFamily(key.asymmetricKeyType, key.asymmetricKeyDetails)
  const alg = chooseAlg(family, requestedAlg, jwk?.alg)
  const exported = key.export({ format: 'jwk' }) as Record<string, unknown>
  const publicJwk: Record<string, string> = {}
  for (const member of ['kty', 'n', 'e', 'crv', 'x', 'y']) {
    if (typeof exported[member] === 'string') publicJwk[member] = exported[member]
  }
  return { kid: await calculateJwkThumbprint(publicJwk as JWK, 'sha256'), alg, publicJwk }
}
