/**
 * The `error` of a failed token request: an RFC 6749 §5.2 (or RFC 8707) code the server sent, or,
 * when its answer carried none, one derived from the status (`server_error` for 5xx,
 * `temporarily_unavailable` for 429 and 503) or `invalid_response` for an answer that is not a token.
 *
 * @example
 * ```ts
 * const code: TokenErrorCode = 'invalid_client'
 * ```
 */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_response'
  | (string & {})

/**
 * Options of a {@link TokenError}.
 *
 * @example
 * ```ts
 * const opts: TokenErrorOptions = { status: 429, retryAfterSeconds: 30 }
 * ```
 */
export interface TokenErrorOptions {
  /** HTTP status of the answer. */
  readonly status?: number | undefined
  /** The server's `error_description`. */
  readonly description?: string | undefined
  /** Seconds the server asked to wait (`Retry-After`), when it said. */
  readonly retryAfterSeconds?: number | undefined
  readonly cause?: unknown
}

/**
 * The authorization server (or its metadata endpoint) answered, but not with a usable token.
 *
 * @param error - the RFC error code, e.g. `invalid_client`
 * @param opts - status, description and `Retry-After` of the answer
 * @example
 * ```ts
 * try { await client.getToken() } catch (err) {
 *   if (err instanceof TokenError && err.error === 'invalid_client') rotateCredentials()
 * }
 * ```
 */
export class TokenError extends Error {
  readonly error: TokenErrorCode
  readonly status: number | undefined
  readonly description: string | undefined
  readonly retryAfterSeconds: number | undefined
  constructor(error: TokenErrorCode, opts: TokenErrorOptions = {}) {
    super(opts.description === undefined ? error : `${error}: ${opts.description}`, { cause: opts.cause })
    this.name = 'TokenError'
    this.error = error
    this.status = opts.status
    this.description = opts.description
    this.retryAfterSeconds = opts.retryAfterSeconds
  }
}

/**
 * The authorization server could not be reached or did not answer in time; `cause` holds the
 * underlying `fetch` failure.
 *
 * @param url - the endpoint that was called
 * @param cause - what `fetch` (or reading the body) threw
 * @example
 * ```ts
 * try { await client.getToken() } catch (err) {
 *   if (err instanceof TokenNetworkError) console.warn('keymint unreachable', err.cause)
 * }
 * ```
 */
export class TokenNetworkError extends Error {
  readonly url: string
  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super(`request to ${url} failed: ${reason}`, { cause })
    this.name = 'TokenNetworkError'
    this.url = url
  }
}
