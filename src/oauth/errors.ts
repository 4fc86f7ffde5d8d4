import type { KeyPairState } from '../domain/types.js'

// RFC 6749 §5.2 error model. `description` is safe to send; `detail` goes to logs only.
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'rate_limit_exceeded'
  | 'quota_exceeded'

export interface OAuthErrorOptions {
  readonly detail?: string
  readonly cause?: unknown
}

export abstract class OAuthError extends Error {
  abstract readonly error: OAuthErrorCode
  abstract readonly status: 400 | 401 | 403 | 413 | 429 | 500 | 503
  readonly detail: string | undefined
  constructor(description: string, opts: OAuthErrorOptions = {}) {
    super(description, { cause: opts.cause })
    this.name = new.target.name
    this.detail = opts.detail
  }
}

/** The request is missing a parameter, repeats one, or is otherwise malformed. */
export class InvalidRequest extends OAuthError {
  readonly error = 'invalid_request'
  readonly status = 400
}

/** The request body is larger than any valid token request. */
export class RequestTooLarge extends OAuthError {
  readonly error = 'invalid_request'
  readonly status = 413
}

/** Client authentication failed: unknown client, wrong secret, no credentials, or a pair no longer valid. */
export class InvalidClient extends OAuthError {
  readonly error = 'invalid_client'
  readonly status = 401
}

export type AuthFailureReason =
  | 'malformed_client_id' | 'malformed_secret' | 'unknown_client' | 'secret_mismatch' | 'key_pair_revoked' | 'key_pair_expired'
  | 'malformed_assertion' | 'assertion_invalid' | 'assertion_lifetime_too_long' | 'assertion_replayed' | 'no_public_key'
  | 'secret_not_allowed' | 'client_disabled'

/** Why a pair that no longer works is refused: an expired pair is refused as a revoked one is, under its own reason. */
export function keyPairEndedReason(state: KeyPairState): 'key_pair_revoked' | 'key_pair_expired' | undefined {
  return state.state === 'revoked' ? 'key_pair_revoked' : state.state === 'expired' ? 'key_pair_expired' : undefined
}

/** Client authentication failed for a known reason; the reason goes to logs and audit, never to the client. */
export class ClientAuthenticationFailed extends InvalidClient {
  readonly reason: AuthFailureReason
  /** The account of the presented client_id, when it exists. */
  readonly accountId: string | null
  /** Which check within the reason failed (`exp_passed`, `aud_check_failed`, …); a code, never a presented value. */
  readonly check: string | undefined
  constructor(reason: AuthFailureReason, accountId: string | null = null, opts: { cause?: unknown; check?: string } = {}) {
    super('client authentication failed', { detail: opts.check === undefined ? reason : `${reason}: ${opts.check}`, cause: opts.cause })
    this.reason = reason
    this.accountId = accountId
    this.check = opts.check
  }
}

/** The authenticated client may not use this grant or endpoint. */
export class UnauthorizedClient extends OAuthError {
  readonly error = 'unauthorized_client'
  readonly status = 400
}

/** The grant type is not one this server supports. */
export class UnsupportedGrantType extends OAuthError {
  readonly error = 'unsupported_grant_type'
  readonly status = 400
}

/** The requested scope is malformed or exceeds what the client may have. */
export class InvalidScope extends OAuthError {
  readonly error = 'invalid_scope'
  readonly status = 400
}

/** RFC 8707 §2: the requested resource is malformed or not one this account registered. */
export class InvalidTarget extends OAuthError {
  readonly error = 'invalid_target'
  readonly status = 400
}

/** RFC 9449 §5: the DPoP proof is missing (for a client that requires one), malformed, or fails a check. */
export class InvalidDPoPProof extends OAuthError {
  readonly error = 'invalid_dpop_proof'
  readonly status = 400
}

/** RFC 9449 §8: the proof must carry a server nonce (again); `nonce` goes out in the `DPoP-Nonce` header. */
export class UseDPoPNonce extends OAuthError {
  readonly error = 'use_dpop_nonce'
  readonly status = 400
  readonly nonce: string
  constructor(description: string, nonce: string, opts: OAuthErrorOptions = {}) {
    super(description, opts)
    this.nonce = nonce
  }
}

/** RFC 6750 §3.1: the bearer token is missing, malformed, expired or revoked. */
export class InvalidToken extends OAuthError {
  readonly error = 'invalid_token'
  readonly status = 401
}

/** RFC 6750 §3.1: the token is valid but lacks the scope (or role) this call needs. */
export class InsufficientScope extends OAuthError {
  readonly error = 'insufficient_scope'
  readonly status = 403
}

/** An unexpected failure; the description never says more than that. */
export class ServerError extends OAuthError {
  readonly error = 'server_error'
  readonly status = 500
}

/** Too many failed authentications from this address or for this client; carries Retry-After. */
export class TooManyAttempts extends OAuthError {
  readonly error = 'temporarily_unavailable'
  readonly status = 429
  readonly retryAfterSeconds: number
  constructor(description: string, retryAfterSeconds: number, opts: OAuthErrorOptions = {}) {
    super(description, opts)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/**
 * RFC 6749 §5.2 / §4.1.2.1 `temporarily_unavailable`: the server cannot answer now (its database
 * is out of reach, or it sheds lookups of unknown clients); carries Retry-After.
 */
export class TemporarilyUnavailable extends OAuthError {
  readonly error = 'temporarily_unavailable'
  readonly status = 503
  readonly retryAfterSeconds: number
  constructor(description: string, retryAfterSeconds: number, opts: OAuthErrorOptions = {}) {
    super(description, opts)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/**
 * The client's rate limit is used up in this window (RFC 6585 §4: 429 with `Retry-After`). RFC 6749
 * has no code for it; this one follows its §8.5 form, as `slow_down` (RFC 8628) does for polling.
 */
export class RateLimitExceeded extends OAuthError {
  readonly error = 'rate_limit_exceeded'
  readonly status = 429
  readonly retryAfterSeconds: number
  constructor(description: string, retryAfterSeconds: number, opts: OAuthErrorOptions = {}) {
    super(description, opts)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** The client's quota is used up until its window (a UTC day or month) ends; 429 with `Retry-After`. */
export class QuotaExceeded extends OAuthError {
  readonly error = 'quota_exceeded'
  readonly status = 429
  readonly retryAfterSeconds: number
  constructor(description: string, retryAfterSeconds: number, opts: OAuthErrorOptions = {}) {
    super(description, opts)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** Seconds a refusal asks the caller to wait (`Retry-After`), for the errors that carry one. */
export function retryAfterOf(err: OAuthError): number | undefined {
  return err instanceof TooManyAttempts || err instanceof TemporarilyUnavailable || err instanceof RateLimitExceeded || err instanceof QuotaExceeded
    ? err.retryAfterSeconds
    : undefined
}
