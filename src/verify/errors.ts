/**
 * The RFC 6750 §3.1 error codes a verifier reports about a presented token, and RFC 9449 §7.1's
 * `invalid_dpop_proof` about the DPoP proof that came with it.
 *
 * @example
 * ```ts
 * const code: VerifyErrorCode = 'insufficient_scope'
 * ```
 */
export type VerifyErrorCode = 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof'

/**
 * The authentication scheme a refusal answers in: `Bearer` (RFC 6750) or `DPoP` (RFC 9449 §7.1).
 *
 * @example
 * ```ts
 * const scheme: ChallengeScheme = 'DPoP'
 * ```
 */
export type ChallengeScheme = 'Bearer' | 'DPoP'

/**
 * Options of a {@link VerifyError}.
 *
 * @example
 * ```ts
 * const opts: VerifyErrorOptions = { detail: 'jose: signature verification failed' }
 * ```
 */
export interface VerifyErrorOptions {
  /** For logs only, never sent to the caller. */
  readonly detail?: string | undefined
  /** The scopes a route requires, for the `scope` attribute of an `insufficient_scope` challenge. */
  readonly scope?: string | undefined
  /** True when the request carried no bearer token at all (RFC 6750 §3.1: the challenge then names no error). */
  readonly missing?: boolean | undefined
  /** The challenge's scheme; default `Bearer`. `DPoP` for DPoP-bound tokens and their proofs. */
  readonly scheme?: ChallengeScheme | undefined
  /** The DPoP proof algorithms the resource server accepts, for the challenge's `algs` (RFC 9449 §7.1). */
  readonly algs?: readonly string[] | undefined
  readonly cause?: unknown
}

/**
 * A token was refused: `code` says how to answer (`invalid_token` and `invalid_dpop_proof` → 401,
 * `insufficient_scope` → 403), `scheme` in which challenge, and `message` is a description safe
 * to send back.
 *
 * @param code - the RFC 6750 error code
 * @param description - a short, safe description of the failure
 * @param opts - a log-only detail, the required scopes, and the cause
 * @example
 * ```ts
 * try { await verifier.verify(token) } catch (err) {
 *   if (err instanceof VerifyError) reply.code(err.status).send({ error: err.code, error_description: err.message })
 * }
 * ```
 */
export class VerifyError extends Error {
  readonly code: VerifyErrorCode
  readonly status: 401 | 403
  readonly detail: string | undefined
  readonly scope: string | undefined
  readonly missing: boolean
  readonly scheme: ChallengeScheme
  readonly algs: readonly string[] | undefined
  constructor(code: VerifyErrorCode, description: string, opts: VerifyErrorOptions = {}) {
    super(description, { cause: opts.cause })
    this.name = 'VerifyError'
    this.code = code
    this.status = code === 'insufficient_scope' ? 403 : 401
    this.detail = opts.detail
    this.scope = opts.scope
    this.missing = opts.missing ?? false
    this.scheme = opts.scheme ?? 'Bearer'
    this.algs = opts.algs
  }
}

/**
 * The verifier could not decide because the authorization server's metadata, keys or revocation
 * feed could not be read; not the token's fault, so answer 503 rather than 401.
 *
 * @param description - what could not be read
 * @param opts - the cause
 * @example
 * ```ts
 * try { await verifier.verify(token) } catch (err) {
 *   if (err instanceof VerifierUnavailableError) reply.code(503).send()
 * }
 * ```
 */
export class VerifierUnavailableError extends Error {
  /** Read by Fastify's and Express's default error handlers. */
  readonly statusCode = 503
  readonly status = 503
  constructor(description: string, opts: { readonly cause?: unknown } = {}) {
    super(description, { cause: opts.cause })
    this.name = 'VerifierUnavailableError'
  }
}
