import { createHash } from 'node:crypto'
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors, jwtVerify } from 'jose'
import { VerifyError } from './errors.js'
import { createProofReplayCache, type ProofReplayCache } from './dpop-replay.js'
import type { DPoPOptions } from './types.js'

/**
 * DPoP proof algorithms accepted by default: asymmetric only (RFC 9449 §4.2); keymint's
 * server accepts the same at its token endpoint.
 *
 * @internal
 */
export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const

const ASYMMETRIC: ReadonlySet<string> = new Set(DEFAULT_DPOP_ALGORITHMS)
const MAX_PROOF_LENGTH = 8192
const MAX_JTI_LENGTH = 256
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/**
 * How a verifier checks DPoP proofs, settled once at construction.
 *
 * @internal
 */
export interface DPoPChecks {
  readonly algorithms: readonly string[]
  readonly maxAgeSeconds: number
  readonly clockSkewSeconds: number
  readonly replay: ProofReplayCache
}

/**
 * Checks and completes the `dpop` options; a misconfiguration throws at construction.
 *
 * @param options - the caller's `dpop` options
 * @internal
 */
export function resolveDPoPChecks(options: DPoPOptions | undefined): DPoPChecks {
  const algorithms = [...new Set(options?.algorithms ?? DEFAULT_DPOP_ALGORITHMS)]
  if (algorithms.length === 0 || algorithms.some((a) => !ASYMMETRIC.has(a))) {
    throw new TypeError(`keymint/verify: dpop.algorithms must be a non-empty list of ${DEFAULT_DPOP_ALGORITHMS.join(', ')}`)
  }
  const seconds = (name: string, value: number | undefined, fallback: number, min: number) => {
    const n = value ?? fallback
    if (!Number.isFinite(n) || n < min || n > 3600) throw new TypeError(`keymint/verify: dpop.${name} must be a number of seconds from ${min} to 3600`)
    return n
  }
  const maxEntries = options?.maxRememberedProofs ?? 100_000
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('keymint/verify: dpop.maxRememberedProofs must be a positive integer')
  return {
    algorithms,
    maxAgeSeconds: seconds('maxAgeSeconds', options?.maxAgeSeconds, 60, 1),
    clockSkewSeconds: seconds('clockSkewSeconds', options?.clockSkewSeconds, 5, 0),
    replay: createProofReplayCache(maxEntries),
  }
}

/** `htu` as RFC 9449 §4.3 compares it: no query, no fragment, in the URL parser's normal form. */
function normalUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 4096 || !URL.canParse(value)) return undefined
  const url = new URL(value)
  url.search = ''
  url.hash = ''
  return url.href
}

/**
 * The request a proof must be made for, and the token it must go with.
 *
 * @internal
 */
export interface ProofExpectation {
  readonly method: string
  /** The absolute URL of the resource request. */
  readonly url: string
  readonly accessToken: string
  /** The token's `cnf.jkt`. */
  readonly jkt: string
}

/**
 * RFC 9449 §4.3 and §7.1: checks the proof of a request made with a DPoP-bound token, or throws
 * `invalid_dpop_proof` (with a DPoP challenge): signed by the key in its own header, which is the
 * key the token is bound to; for this method and URL; fresh; for this token (`ath`); never seen.
 *
 * @param checks - the verifier's DPoP settings
 * @param proof - the `DPoP` header
 * @param expected - the request and token
 * @param now - the current time
 * @internal
 */
export async function checkResourceProof(checks: DPoPChecks, proof: string, expected: ProofExpectation, now: Date): Promise<void> {
  const refuse = (description: string, detail: string, cause?: unknown) =>
    new VerifyError('invalid_dpop_proof', description, { scheme: 'DPoP', algs: checks.algorithms, detail, cause })
  if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) throw refuse('DPoP proof is malformed', 'not a compact JWS')
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(proof)
  } catch (err) {
    throw refuse('DPoP proof is malformed', 'header is not JSON', err)
  }
  if (typeof header.alg !== 'string' || !checks.algorithms.includes(header.alg)) throw refuse('DPoP proof algorithm is not accepted', `alg ${String(header.alg)}`)
  const jwk = header.jwk
  if (typeof jwk !== 'object' || jwk === null || jwk.kty === 'oct' || PRIVATE_MEMBERS.some((m) => m in jwk)) {
    throw refuse('DPoP proof must carry a public key', 'jwk missing or not public')
  }
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      algorithms: [...checks.algorithms], typ: 'dpop+jwt', currentDate: now, clockTolerance: checks.clockSkewSeconds,
      requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
    }))
  } catch (err) {
    const description = err instanceof errors.JWSSignatureVerificationFailed ? 'DPoP proof signature is invalid' : 'DPoP proof is invalid'
    throw refuse(description, err instanceof Error ? err.message : 'jose refused it', err)
  }
  const { jti, htm, htu, iat, ath } = payload
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw refuse('DPoP proof jti is invalid', 'jti')
  if (htm !== expected.method.toUpperCase()) throw refuse('DPoP proof is for another method', `htm ${String(htm).slice(0, 16)}`)
  if (normalUrl(htu) === undefined || normalUrl(htu) !== normalUrl(expected.url)) throw refuse('DPoP proof is for another URL', 'htu mismatch')
  const nowSeconds = now.getTime() / 1000
  const issuedAt = iat as number
  if (issuedAt > nowSeconds + checks.clockSkewSeconds) throw refuse('DPoP proof is issued in the future', 'iat in the future')
  if (nowSeconds - issuedAt > checks.maxAgeSeconds) throw refuse('DPoP proof is too old', 'iat too old')
  if (ath !== createHash('sha256').update(expected.accessToken).digest('base64url')) throw refuse('DPoP proof is for another access token', 'ath mismatch')
  // RFC 9449 §7.1's own example: the proof's key is not the token's.
  if (await calculateJwkThumbprint(jwk, 'sha256') !== expected.jkt) throw refuse('DPoP proof key does not match the token binding', 'jkt mismatch')
  const id = `${expected.jkt}:${jti}`
  if (!checks.replay.remember(id, (Math.floor(issuedAt) + checks.maxAgeSeconds + 1) * 1000, now.getTime())) {
    throw refuse('DPoP proof was used before', 'jti replayed')
  }
}
