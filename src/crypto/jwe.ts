import { createPublicKey, type KeyObject } from 'node:crypto'
import { CompactEncrypt } from 'jose'

const encoder = new TextEncoder()

/**
 * Nested JWT (RFC 7519 §5.2): a signed token encrypted to `key` with AES-256-GCM content
 * encryption; `cty: "JWT"` tells the receiver the plaintext is itself a JWT.
 */
export async function encryptNestedJwt(jws: string, key: { kid: string; publicKey: KeyObject }, alg: string): Promise<string> {
  return new CompactEncrypt(encoder.encode(jws))
    .setProtectedHeader({ alg, enc: 'A256GCM', cty: 'JWT', kid: key.kid })
    .encrypt(key.publicKey)
}

/** A nested JWT to a third party's public key, with the algorithm registered for it; `kid` is the key's thumbprint. */
export async function encryptNestedJwtTo(jws: string, key: { kid: string; alg: string; publicJwk: Readonly<Record<string, string>> }): Promise<string> {
  return encryptNestedJwt(jws, { kid: key.kid, publicKey: createPublicKey({ key: { ...key.publicJwk }, format: 'jwk' }) }, key.alg)
}
