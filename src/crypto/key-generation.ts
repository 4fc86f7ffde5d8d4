import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { calculateJwkThumbprint, type JWK } from 'jose'
import type { SigningAlg } from './jws.js'

export interface GeneratedSigningKey {
  readonly kid: string
  readonly alg: SigningAlg
  readonly publicJwk: JWK
  /** PKCS#8 PEM; sealed before it is stored. */
  readonly privatePem: string
}

// Made on libuv's thread pool: an RSA key costs a quarter of a second or more of CPU, which
// would otherwise stall every token request of a running server that rotates its keys.
const generate = promisify(generateKeyPair)

function generateFor(alg: SigningAlg): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  switch (alg) {
    case 'RS256':
    case 'PS256':
      return generate('rsa', { modulusLength: 2048 })
    case 'ES256':
      return generate('ec', { namedCurve: 'P-256' })
    case 'EdDSA':
      return generate('ed25519')
  }
}

/** A new key pair whose `kid` is its RFC 7638 thumbprint, so the id can never mismatch the key. */
export async function generateSigningKey(alg: SigningAlg): Promise<GeneratedSigningKey> {
  const { publicKey, privateKey } = await generateFor(alg)
  const jwk = publicKey.export({ format: 'jwk' }) as JWK
  const kid = await calculateJwkThumbprint(jwk, 'sha256')
  return {
    kid,
    alg,
    publicJwk: { ...jwk, kid, alg, use: 'sig' },
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  }
}

export function importPrivateKey(pem: string): KeyObject {
  return createPrivateKey({ key: pem, format: 'pem' })
}

export interface GeneratedEncryptionKey {
  readonly kid: string
  readonly publicJwk: JWK
  readonly privatePem: string
}

/** The RSA key encrypted access tokens are encrypted to (RSA-OAEP with SHA-256/384/512). */
export async function generateEncryptionKey(): Promise<GeneratedEncryptionKey> {
  const { publicKey, privateKey } = await generate('rsa', { modulusLength: 2048 })
  const jwk = publicKey.export({ format: 'jwk' }) as JWK
  const kid = await calculateJwkThumbprint(jwk, 'sha256')
  return {
    kid,
    publicJwk: { ...jwk, kid, use: 'enc' },
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  }
}
