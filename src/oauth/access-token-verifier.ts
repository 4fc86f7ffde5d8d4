import type { KeyObject } from 'node:crypto'
import { compactDecrypt, createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose'

export interface VerifierKeys {
  /** Public signing keys as published in the JWKS. */
  readonly jwks: JSONWebKeySet
  /** Private encryption keys by kid, to open nested (encrypted) tokens. */
  readonly decryptionKeys: ReadonlyMap<string, KeyObject>
}

/** The claims of a token keymint minted (mint-access-token.ts); its signature vouches for their shape. */
export type AccessTokenClaims = JWTPayload & {
  readonly iss: string
  readonly sub: string
  readonly aud: string | string[]
  readonly iat: number
  readonly jti: string
  readonly exp: number
  /** The key pair the token was issued to. */
  readonly client_id: string
  readonly scope: string
  readonly account_id: string
  readonly client_level: string
  /** RFC 8693 §4.1: set on tokens issued through a trust policy; `client_id` is then the policy's id. */
  readonly act?: { readonly iss: string; readonly sub: string }
  /** RFC 9449 §6.1: the DPoP key a sender-constrained token is bound to. */
  readonly cnf?: { readonly jkt?: unknown }
}

/** The `cnf.jkt` of a DPoP-bound token, else undefined. */
export const boundKeyOf = (claims: AccessTokenClaims): string | undefined =>
  typeof claims.cnf?.jkt === 'string' ? claims.cnf.jkt : undefined

const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/
const COMPACT_JWE = /^[\w-]+\.[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+$/

/**
 * Checks a token this server issued: opens it if encrypted, verifies the signature against
 * the published keys, issuer, `typ` and expiry. Anything else, garbage included, is undefined.
 */
export function createAccessTokenVerifier(source: { readonly version: number; verifierKeys(): VerifierKeys }, issuer: () => string, now: () => Date) {
  // Rebuilt only when the key set changes (a rotation or retirement was picked up).
  let cached: { version: number; keys: VerifierKeys; jwks: ReturnType<typeof createLocalJWKSet>; algorithms: string[] } | undefined
  const current = () => {
    if (cached?.version !== source.version) {
      const keys = source.verifierKeys()
      cached = {
        version: source.version,
        keys,
        jwks: createLocalJWKSet(keys.jwks),
        algorithms: [...new Set(keys.jwks.keys.map((k) => k.alg).filter((a): a is string => a !== undefined))],
      }
    }
    return cached
  }

  async function unwrap(token: string): Promise<string | undefined> {
    if (COMPACT_JWS.test(token)) return token
    if (!COMPACT_JWE.test(token)) return undefined
    const kid = decodeProtectedHeader(token).kid
    const key = kid === undefined ? undefined : current().keys.decryptionKeys.get(kid)
    if (!key) return undefined
    const { plaintext, protectedHeader } = await compactDecrypt(token, key, {
      keyManagementAlgorithms: ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512'],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    if (protectedHeader.cty !== 'JWT') return undefined
    return new TextDecoder().decode(plaintext)
  }

  return async function verifyAccessToken(token: string): Promise<AccessTokenClaims | undefined> {
    try {
      if (token.length > 16_384) return undefined
      const jws = await unwrap(token)
      if (jws === undefined) return undefined
      const { jwks, algorithms } = current()
      const { payload } = await jwtVerify(jws, jwks, {
        issuer: issuer(), typ: 'at+jwt', algorithms, currentDate: now(), requiredClaims: ['exp', 'jti', 'client_id'],
      })
      if (typeof payload.jti !== 'string' || typeof payload.client_id !== 'string' || typeof payload.account_id !== 'string') return undefined
      return payload as AccessTokenClaims
    } catch {
      return undefined
    }
  }
}

export type VerifyAccessToken = ReturnType<typeof createAccessTokenVerifier>
