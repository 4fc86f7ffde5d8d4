import { createHash } from 'node:crypto'
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors, jwtVerify, type JWK } from 'jose'
import type { DPoPNonces } from '../crypto/dpop-nonces.js'
import { InvalidDPoPProof, UseDPoPNonce } from './errors.js'

/**
 * RFC 9449 §4.2: asymmetric algorithms only. `none` and HMAC prove nothing about a key the
 * client holds (an HMAC "key" in a header is no secret at all).
 */
export const DPOP_SIGNING_ALGS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const

export interface DPoPSettings {
  /** Oldest `iat` accepted; the proof's `jti` is remembered this long. */
  readonly proofMaxAgeSeconds: number
  /** How far ahead of the server's clock an `iat` may be. */
  readonly clockSkewSeconds: number
  /** Every proof must carry a nonce of ours (RFC 9449 §8). */
  readonly nonceRequired: boolean
}

export interface DPoPProofDeps {
  readonly settings: DPoPSettings
  readonly nonces: DPoPNonces
  readonly now: () => Date
  /** Remembers a proof id until `expiresAt`, for every instance; false when it was seen before. */
  readonly remember: (id: string, expiresAt: Date) => Promise<boolean>
}

/** The request the proof must be made for (RFC 9449 §4.3 checks 9 and 10). */
export interface ProofTarget {
  readonly htm: string
  /** The absolute URL of the endpoint as the issuer names it, without query or fragment. */
  readonly htu: string
}

export interface AcceptedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof's key: the token's `cnf.jkt` (RFC 9449 §6.1). */
  readonly jkt: string
}

// A proof carries its public key: an RSA-4096 JWK is under 1 KiB; anything near this is not a proof.
const MAX_PROOF_LENGTH = 8192
const MAX_JTI_LENGTH = 256
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/
// RFC 7517/7518 private and symmetric key members.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const ALGS: ReadonlySet<string> = new Set(DPOP_SIGNING_ALGS)

const refuse = (description: string, check: string) => new InvalidDPoPProof(description, { detail: check })

/** `htu` without query and fragment (RFC 9449 §4.3 check 10), in the URL parser's normal form. */
function normalHtu(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048 || !URL.canParse(value)) return undefined
  const url = new URL(value)
  url.search = ''
  url.hash = ''
  return url.href
}

/** The header checks that come before any signature work: type, algorithm, and a public key. */
function checkHeader(proof: string): JWK {
  if (proof.length > MAX_PROOF_LENGTH || !COMPACT_JWS.test(proof)) throw refuse('the DPoP proof is not a signed JWT', 'malformed')
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(proof)
  } catch (err) {
    throw new InvalidDPoPProof('the DPoP proof is not a signed JWT', { detail: 'malformed', cause: err })
  }
  if (header.typ !== 'dpop+jwt') throw refuse('the DPoP proof must have typ dpop+jwt', 'typ_invalid')
  if (typeof header.alg !== 'string' || !ALGS.has(header.alg)) {
    throw refuse(`the DPoP proof must be signed with one of ${DPOP_SIGNING_ALGS.join(', ')}`, 'alg_not_allowed')
  }
  const jwk = header.jwk
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw refuse('the DPoP proof must carry its public key in the jwk header', 'jwk_missing')
  if (jwk.kty === 'oct' || PRIVATE_MEMBERS.some((m) => m in jwk)) throw refuse('the jwk of a DPoP proof must be a public key', 'jwk_not_public')
  return jwk
}

/** Which check jose refused, as a fixed code for logs and the audit. */
function failedCheck(err: unknown): string {
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature_invalid'
  if (err instanceof errors.JWTExpired) return 'exp_passed'
  if (err instanceof errors.JWTClaimValidationFailed) return /^[a-z]{2,8}$/.test(err.claim) ? `${err.claim}_invalid` : 'claim_invalid'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed'
  return 'jwk_unusable'
}

/**
 * RFC 9449 §4.3: checks a DPoP proof for one request: signature by the key in its own header,
 * `typ`, algorithm, public key, `htm`, `htu`, `iat` within the window, the server nonce when one
 * is required or given, and last the `jti`, remembered for every instance so a proof works once.
 */
export async function acceptDPoPProof(deps: DPoPProofDeps, proof: string, target: ProofTarget): Promise<AcceptedProof> {
  const jwk = checkHeader(proof)
  const now = deps.now()
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
      algorithms: [...DPOP_SIGNING_ALGS], typ: 'dpop+jwt', currentDate: now, clockTolerance: deps.settings.clockSkewSeconds,
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
    }))
  } catch (err) {
    const check = failedCheck(err)
    throw new InvalidDPoPProof(check === 'signature_invalid' ? 'the DPoP proof signature is invalid' : 'the DPoP proof is invalid', { detail: check, cause: err })
  }
  const { jti, htm, htu, iat, nonce } = payload
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw refuse(`the DPoP proof needs a jti of 1 to ${MAX_JTI_LENGTH} characters`, 'jti_invalid')
  if (htm !== target.htm) throw refuse(`the DPoP proof is not for this method (htm must be ${target.htm})`, 'htm_mismatch')
  if (normalHtu(htu) !== normalHtu(target.htu)) throw refuse(`the DPoP proof is not for this URL (htu must be ${target.htu})`, 'htu_mismatch')
  const nowSeconds = now.getTime() / 1000
  // jose checked that iat is a number.
  const issuedAt = iat as number
  if (issuedAt > nowSeconds + deps.settings.clockSkewSeconds) throw refuse('the DPoP proof is issued in the future (iat)', 'iat_in_future')
  if (nowSeconds - issuedAt > deps.settings.proofMaxAgeSeconds) throw refuse('the DPoP proof is too old (iat); make a new one for each request', 'iat_too_old')
  if (nonce !== undefined || deps.settings.nonceRequired) {
    // RFC 9449 §8: a missing, stale or foreign nonce is answered with a fresh one to retry with.
    if (typeof nonce !== 'string' || !deps.nonces.accepts(nonce, now)) {
      throw new UseDPoPNonce(nonce === undefined ? 'the DPoP proof must carry the server nonce in DPoP-Nonce' : 'the DPoP nonce is not current; use the one in DPoP-Nonce',
        deps.nonces.issue(now), { detail: nonce === undefined ? 'nonce_missing' : 'nonce_stale' })
    }
  }
  const jkt = await calculateJwkThumbprint(jwk, 'sha256')
  // The same jti under another key is another proof; hashing keeps the stored id short and fixed.
  const id = createHash('sha256').update(`${jkt}:${jti}`).digest('base64url')
  if (!await deps.remember(id, new Date((Math.floor(issuedAt) + deps.settings.proofMaxAgeSeconds + 1) * 1000))) {
    throw refuse('the DPoP proof was used before; make a new one for each request', 'jti_replayed')
  }
  return { jkt }
}
