import { decodeJwt, errors, importJWK, jwtVerify } from 'jose'
import type { ClientCredential, KeyPairId } from '../../domain/types.js'
import { keyPairState } from '../../domain/types.js'
import { isUuid } from '../../domain/validation.js'
import { ClientAuthenticationFailed, keyPairEndedReason } from '../errors.js'

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

export interface PresentedAssertion {
  readonly method: 'private_key_jwt'
  /** The form's client_id, when the client sent one; must match the assertion's iss and sub. */
  readonly clientId: string | undefined
  readonly assertion: string
}

export interface AssertionAuthDeps {
  findCredential(id: KeyPairId): Promise<ClientCredential | undefined>
  /** False when this assertion id was seen before. */
  rememberAssertion(id: string, expiresAt: Date): Promise<boolean>
  /** Accepted `aud` values: the issuer and this server's endpoint URLs. */
  audiences(): string[]
  now(): Date
}

// Asymmetric only: `none` and HMAC (a shared secret dressed as a key) are never accepted.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'EdDSA']
// OIDC Core §9 leaves the lifetime to the server; a few minutes limits what a leaked one is worth.
const MAX_LIFETIME_SECONDS = 300
const CLOCK_TOLERANCE_SECONDS = 30

/** The client_id an assertion claims, read without verification: for throttling and lookup only. */
export function claimedClientId(presented: PresentedAssertion): string {
  if (presented.clientId !== undefined) return presented.clientId
  try {
    const iss = decodeJwt(presented.assertion).iss
    return typeof iss === 'string' ? iss : ''
  } catch {
    return ''
  }
}

/**
 * Which check of the assertion failed, as a fixed code: for the audit and server logs, so an
 * admin can tell a clock skew from a wrong `aud` or key. The caller learns none of it.
 */
function failedCheck(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'exp_passed'
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = /^[a-z]{2,8}$/.test(err.claim) ? err.claim : 'claim'
    return `${claim}_${err.reason === 'missing' ? 'missing' : err.reason === 'invalid' ? 'invalid' : 'check_failed'}`
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature_invalid'
  if (err instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed'
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed_jwt'
  // The header's alg does not fit the registered key, or the key cannot verify.
  return 'key_unusable'
}

/**
 * RFC 7523 §2.2 / OIDC Core §9 private_key_jwt: the client signs a short-lived JWT with its
 * private key; iss and sub are its client_id, aud names this server, and each jti works once.
 */
export async function authenticateWithAssertion(deps: AssertionAuthDeps, presented: PresentedAssertion): Promise<ClientCredential> {
  if (presented.assertion.length > 8192) throw new ClientAuthenticationFailed('malformed_assertion', null, { check: 'longer_than_8192' })
  const clientId = claimedClientId(presented)
  if (!isUuid(clientId)) {
    throw new ClientAuthenticationFailed('malformed_assertion', null, { check: presented.clientId === undefined ? 'iss_not_a_client_id' : 'client_id_malformed' })
  }
  const credential = await deps.findCredential(clientId as KeyPairId)
  if (!credential) throw new ClientAuthenticationFailed('unknown_client')
  const accountId = credential.client.accountId
  const jwk = credential.client.publicJwk
  if (!jwk) throw new ClientAuthenticationFailed('no_public_key', accountId)
  let exp: number
  let jti: string
  try {
    const { payload } = await jwtVerify(presented.assertion, async (header) => importJWK(jwk, header.alg), {
      algorithms: ALGORITHMS,
      issuer: clientId,
      subject: clientId,
      audience: deps.audiences(),
      currentDate: deps.now(),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'jti'],
    })
    exp = payload.exp as number
    jti = String(payload.jti)
  } catch (err) {
    throw new ClientAuthenticationFailed('assertion_invalid', accountId, { cause: err, check: failedCheck(err) })
  }
  if (exp - deps.now().getTime() / 1000 > MAX_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
    throw new ClientAuthenticationFailed('assertion_lifetime_too_long', accountId, { check: `exp_more_than_${MAX_LIFETIME_SECONDS}s_ahead` })
  }
  const ended = keyPairEndedReason(keyPairState(credential.keyPair, deps.now()))
  if (ended) throw new ClientAuthenticationFailed(ended, accountId)
  if (credential.client.disabled) throw new ClientAuthenticationFailed('client_disabled', accountId)
  if (!await deps.rememberAssertion(`${clientId}:${jti}`, new Date((exp + CLOCK_TOLERANCE_SECONDS) * 1000))) {
    throw new ClientAuthenticationFailed('assertion_replayed', accountId, { check: 'jti_seen_before' })
  }
  return credential
}
