import type { JWTPayload } from 'jose'
import { VerifyError } from './errors.js'
import type { AccessTokenClaims } from './types.js'

/**
 * Claims present in every keymint access token (RFC 9068 §2.2 and keymint's own); `iss`/`aud` are checked by value.
 *
 * @internal
 */
export const REQUIRED_CLAIMS = ['sub', 'exp', 'iat', 'jti', 'client_id', 'account_id', 'client_level']

const STRING_CLAIMS = ['sub', 'jti', 'client_id', 'account_id', 'client_level'] as const

/**
 * Checks the types of the claims jose verified for presence, so callers can trust `AccessTokenClaims`.
 *
 * @param payload - the verified payload
 * @internal
 */
export function toAccessTokenClaims(payload: JWTPayload): AccessTokenClaims {
  for (const name of STRING_CLAIMS) {
    if (typeof payload[name] !== 'string' || payload[name] === '') {
      throw new VerifyError('invalid_token', 'token is invalid', { detail: `claim ${name} is not a non-empty string` })
    }
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string') {
    throw new VerifyError('invalid_token', 'token is invalid', { detail: 'claim scope is not a string' })
  }
  // jose has checked iss, aud, exp and iat by now (presence, type and value).
  return { ...payload, scope: payload.scope ?? '' } as AccessTokenClaims
}

/**
 * The granted scopes: RFC 9068 §2.2.3 `scope` is space-delimited.
 *
 * @param claims - verified claims
 * @internal
 */
export const scopesOf = (claims: AccessTokenClaims): string[] => claims.scope.split(' ').filter((s) => s !== '')
