import { createHash, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, SignJWT, type CryptoKey, type JWK } from 'jose'
import { testKeyPair } from './rsa-keys.js'

/** A client's DPoP key: its private half signs proofs, its public JWK rides in their header. */
export interface DPoPKey {
  readonly alg: string
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly jwk: JWK
  readonly jkt: string
}

export async function dpopKey(alg: 'ES256' | 'EdDSA' | 'RS256' | 'PS256' | 'ES384' = 'ES256'): Promise<DPoPKey> {
  const { privateKey, publicKey } = await testKeyPair(alg)
  const jwk = await exportJWK(publicKey)
  return { alg, privateKey, publicKey, jwk, jkt: await calculateJwkThumbprint(jwk) }
}

export interface ProofOptions {
  readonly htm?: string
  readonly htu: string
  /** Seconds since the epoch; default now. */
  readonly iat?: number
  readonly jti?: string | null
  readonly nonce?: string
  /** The access token the proof goes with (`ath`, RFC 9449 §4.2). */
  readonly accessToken?: string
  /** Header members to add or replace (`typ`, `jwk`, `alg`). */
  readonly header?: Record<string, unknown>
  readonly claims?: Record<string, unknown>
  /** Sign with this key instead of the one whose JWK is in the header. */
  readonly signWith?: CryptoKey
}

/** A DPoP proof (RFC 9449 §4.2) made by hand, so tests can bend every part of it. */
export function dpopProof(key: DPoPKey, opts: ProofOptions): Promise<string> {
  const payload: Record<string, unknown> = {
    htm: opts.htm ?? 'POST',
    htu: opts.htu,
    iat: opts.iat ?? Math.floor(Date.now() / 1000),
    ...(opts.jti === null ? {} : { jti: opts.jti ?? randomUUID() }),
    ...(opts.nonce === undefined ? {} : { nonce: opts.nonce }),
    ...(opts.accessToken === undefined ? {} : { ath: createHash('sha256').update(opts.accessToken).digest('base64url') }),
    ...opts.claims,
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk, ...opts.header } as { alg: string })
    .sign(opts.signWith ?? key.privateKey)
}

/** A JWT with `alg: none`: header and payload, no signature. */
export function unsignedProof(key: DPoPKey, opts: ProofOptions): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'dpop+jwt', jwk: key.jwk })}.${part({ htm: 'POST', htu: opts.htu, iat: opts.iat ?? Math.floor(Date.now() / 1000), jti: randomUUID() })}.`
}
