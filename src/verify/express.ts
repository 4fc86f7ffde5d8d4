import { bearerRefusal } from './bearer.js'
import { VerifyError } from './errors.js'
import { checkOrigin, requestUrl } from './request-url.js'
import { requireScopes } from './scopes.js'
import type { VerifiedToken, Verifier, VerifierOptions } from './types.js'
import { createVerifier } from './verifier.js'

/**
 * The part of an Express (or node:http) request the middleware uses; it sets `token`. Method,
 * URL, `Host` and scheme are read for DPoP proofs.
 *
 * @example
 * ```ts
 * app.get('/me', keymintExpress(opts), (req, res) => res.json((req as TokenRequest).token?.claims))
 * ```
 */
export interface TokenRequest {
  readonly headers: {
    readonly authorization?: string | undefined
    readonly dpop?: string | readonly string[] | undefined
    readonly host?: string | undefined
  }
  readonly method?: string | undefined
  /** node:http's path and query (inside an Express router, relative to its mount point). */
  readonly url?: string | undefined
  /** Express's full path and query. */
  readonly originalUrl?: string | undefined
  /** Express's scheme (which honours its `trust proxy` setting). */
  readonly protocol?: string | undefined
  /** node:http's socket: a TLS socket is `encrypted`. */
  readonly socket?: object | undefined
  token?: VerifiedToken
}

/**
 * Options of {@link keymintExpress}: a verifier of your own, or the options to create one; and the
 * public origin DPoP proofs name, when a proxy stands between clients and the API.
 *
 * @example
 * ```ts
 * const opts: KeymintExpressOptions = { issuer, audience, origin: 'https://api.example.com' }
 * ```
 */
export type KeymintExpressOptions = ({ readonly verifier: Verifier } | VerifierOptions) & {
  /** The API's origin as clients call it (`https://api.example.com`); default: the request's scheme and `Host`. */
  readonly origin?: string | undefined
}

/**
 * The part of an Express (or node:http) response the middleware uses to refuse a request.
 *
 * @example
 * ```ts
 * const res: RefusableResponse = httpServerResponse
 * ```
 */
export interface RefusableResponse {
  statusCode: number
  setHeader(name: string, value: string): unknown
  end(body: string): unknown
}

/**
 * Express's `next`: called without an argument to continue, with an error to fail the request.
 *
 * @example
 * ```ts
 * const next: Next = (err) => { if (err) console.error(err) }
 * ```
 */
export type Next = (err?: unknown) => void

/**
 * A connect-style middleware, carrying the verifier it uses (for `refreshRevocations` or `close`).
 *
 * @example
 * ```ts
 * const auth: KeymintExpressMiddleware = keymintExpress({ issuer, audience })
 * await auth.verifier.refreshRevocations()
 * ```
 */
export type KeymintExpressMiddleware = ((req: TokenRequest, res: RefusableResponse, next: Next) => void) & { readonly verifier: Verifier }

function refuse(res: RefusableResponse, err: VerifyError): void {
  const refusal = bearerRefusal(err)
  res.statusCode = refusal.status
  res.setHeader('www-authenticate', refusal.wwwAuthenticate)
  res.setHeader('cache-control', 'no-store')
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.end(JSON.stringify(refusal.body))
}

/** The request's URL as a client's DPoP proof names it. */
function urlOf(req: TokenRequest, origin: string | undefined): string {
  const encrypted = (req.socket as { encrypted?: unknown } | undefined)?.encrypted === true
  return requestUrl({ origin, protocol: req.protocol ?? (encrypted ? 'https' : 'http'), host: req.headers.host, path: req.originalUrl ?? req.url ?? '/' })
}

/**
 * Express middleware that verifies the access token (`Authorization: Bearer`, or `Authorization:
 * DPoP` with its `DPoP` proof, RFC 9449), sets `req.token` and calls `next()`, or answers a 401
 * with an RFC 6750 `Bearer` or RFC 9449 `DPoP` challenge; failures to reach the server go to
 * `next(err)` (status 503).
 *
 * @param options - a verifier of your own, or the options to create one; and the public origin
 * @example
 * ```ts
 * app.use('/api', keymintExpress({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' }))
 * app.get('/api/reports', expressRequireScopes('reports:read'), listReports)
 * ```
 */
export function keymintExpress(options: KeymintExpressOptions): KeymintExpressMiddleware {
  const origin = checkOrigin(options.origin)
  const verifier = 'verifier' in options ? options.verifier : createVerifier(options)
  const middleware = (req: TokenRequest, res: RefusableResponse, next: Next): void => {
    const run = async () => {
      try {
        req.token = await verifier.verifyRequest({
          authorization: req.headers.authorization, dpop: req.headers.dpop, method: req.method ?? 'GET', url: urlOf(req, origin),
        })
      } catch (err) {
        if (err instanceof VerifyError) return refuse(res, err)
        return next(err)
      }
      next()
    }
    void run()
  }
  return Object.assign(middleware, { verifier })
}

/**
 * Express middleware answering 403 `insufficient_scope` unless `req.token` (set by
 * {@link keymintExpress}) grants every one of `scopes`.
 *
 * @param scopes - the scopes the route needs
 * @example
 * ```ts
 * app.post('/api/reports', expressRequireScopes('reports:write'), createReport)
 * ```
 */
export function expressRequireScopes(...scopes: string[]): (req: TokenRequest, res: RefusableResponse, next: Next) => void {
  return (req, res, next) => {
    try {
      if (!req.token) throw new VerifyError('invalid_token', 'a bearer token is required', { missing: true })
      requireScopes(req.token, ...scopes)
    } catch (err) {
      if (err instanceof VerifyError) return refuse(res, err)
      return next(err)
    }
    next()
  }
}
