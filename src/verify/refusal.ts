import { errors } from 'jose'
import { VerifierUnavailableError, VerifyError } from './errors.js'

// Descriptions are fixed strings: safe to send, and never echo token content back.
const BY_CODE: Record<string, string> = {
  ERR_JWT_EXPIRED: 'token expired',
  ERR_JOSE_ALG_NOT_ALLOWED: 'token algorithm is not accepted',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'token signature is invalid',
  ERR_JWKS_NO_MATCHING_KEY: 'token is signed by an unknown key',
  ERR_JWE_DECRYPTION_FAILED: 'token could not be decrypted',
}

const BY_CLAIM: Record<string, string> = {
  nbf: 'token is not yet valid',
  aud: 'token is not meant for this audience',
  iss: 'token is from another issuer',
  typ: 'token is not an access token (typ at+jwt)',
}

/**
 * Turns a jose failure into an `invalid_token` {@link VerifyError}, keeping jose's message as the
 * log-only detail; errors of the verifier's own (unreachable server, bugs) pass through.
 *
 * @param err - what verification threw
 * @internal
 */
export function toRefusal(err: unknown): Error {
  if (err instanceof VerifyError || err instanceof VerifierUnavailableError) return err
  if (!(err instanceof errors.JOSEError)) return err instanceof Error ? err : new Error(String(err))
  const description = err instanceof errors.JWTClaimValidationFailed
    ? BY_CLAIM[err.claim] ?? 'token is invalid'
    : BY_CODE[err.code] ?? 'token is invalid'
  return new VerifyError('invalid_token', description, { detail: err.message, cause: err })
}
