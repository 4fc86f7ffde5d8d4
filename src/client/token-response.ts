import { TokenError } from './errors.js'
import { jwtLifetimeSeconds } from './jwt-lifetime.js'

/**
 * A token as {@link TokenClient.getTokenResponse} returns it.
 *
 * @example
 * ```ts
 * const { accessToken, expiresAt, scope } = await client.getTokenResponse()
 * ```
 */
export interface TokenResponse {
  readonly accessToken: string
  /** `Bearer`, or `DPoP` for a token bound to the client's DPoP key (the `dpop` option). */
  readonly tokenType: string
  /** Lifetime in seconds as issued (stated by the server, read from the JWT, or assumed). */
  readonly expiresIn: number
  /** When it expires, in milliseconds on the client's `now()` clock. */
  readonly expiresAt: number
  /** Granted scopes (OAuth 2.0 dialect). */
  readonly scope: string | undefined
}

/**
 * What one dialect read from a successful answer, before the lifetime is settled.
 *
 * @example
 * ```ts
 * const issued: IssuedToken = { accessToken: 'eyJ…', tokenType: 'Bearer', expiresIn: 36000, scope: 'all' }
 * ```
 */
export interface IssuedToken {
  readonly accessToken: string
  readonly tokenType: string
  readonly expiresIn: number | undefined
  readonly scope: string | undefined
}

/**
 * A token and the time it should be replaced.
 *
 * @example
 * ```ts
 * if (now() >= cached.refreshAt) cached = await refresh()
 * ```
 */
export interface CachedToken {
  readonly response: TokenResponse
  readonly refreshAt: number
}

// RFC 6750 §2.1 b64token: all a Bearer header may carry, so a strange answer cannot inject header text.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * Checks that `value` can be sent as a bearer token.
 *
 * @param value - the token from an answer
 * @param status - the status of that answer
 * @example
 * ```ts
 * const token = requireBearerToken(text.trim(), res.status)
 * ```
 */
export function requireBearerToken(value: unknown, status: number): string {
  if (typeof value !== 'string' || !B64TOKEN.test(value)) {
    throw new TokenError('invalid_response', { status, description: 'the answer carries no usable access token' })
  }
  return value
}

/**
 * Settles the lifetime of `issued` (stated, else read from the JWT, else assumed) and when to
 * refresh it: `skewSeconds` before expiry, by default 60 s or 10 % of the lifetime, whichever is
 * smaller, and never earlier than half-way.
 *
 * @param issued - what the dialect read
 * @param startedAt - when the request was sent (ms), so network time counts against the token
 * @param opts - the skew and the lifetime to assume
 * @example
 * ```ts
 * const cached = cacheToken(issued, startedAt, { skewSeconds: undefined, assumedLifetimeSeconds: 14400 })
 * ```
 */
export function cacheToken(
  issued: IssuedToken,
  startedAt: number,
  opts: { readonly skewSeconds: number | undefined; readonly assumedLifetimeSeconds: number },
): CachedToken {
  const lifetime = issued.expiresIn ?? jwtLifetimeSeconds(issued.accessToken, startedAt) ?? opts.assumedLifetimeSeconds
  const skew = Math.min(opts.skewSeconds ?? Math.min(60, lifetime * 0.1), lifetime / 2)
  return {
    response: {
      accessToken: issued.accessToken,
      tokenType: issued.tokenType,
      expiresIn: lifetime,
      expiresAt: startedAt + lifetime * 1000,
      scope: issued.scope,
    },
    refreshAt: startedAt + (lifetime - skew) * 1000,
  }
}
