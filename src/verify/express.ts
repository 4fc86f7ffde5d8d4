import { bearerRefusal, bearerTokenOf } from './bearer.js'
import { VerifyError } from './errors.js'
import { requireScopes } from './scopes.js'
import type { VerifiedToken, Verifier, VerifierOptions } from './types.js'
import { createVerifier } from './verifier.js'

/**
 * The part of an Express (or node:http) request the middleware uses; it sets `token`.
 *
 * @example
 * ```ts
 * app.get('/me', keymintExpress(opts), (req, res) => res.json((req as TokenRequest).token?.claims))
 * ```
 */
export interface TokenRequest {
  readonly headers: { readonly authorization?: string | undefined }
  token?: VerifiedToken
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

/**
 * Express middleware that verifies the bearer token, sets `req.token` and calls `next()`, or answers
 * an RFC 6750 401; failures to reach the server go to `next(err)` (status 503).
 *
 * @param options - a verifier of your own, or the options to create one
 * @example
 * ```ts
 * app.use('/api', keymintExpress({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' }))
 * app.get('/api/reports', expressRequireScopes('reports:read'), listReports)
 * ```
 */
export function keymintExpress(options: { readonly verifier: Verifier } | VerifierOptions): KeymintExpressMiddleware {
  const verifier = 'verifier' in options ? options.verifier : createVerifier(options)
  const middleware = (req: TokenRequest, res: RefusableResponse, next: Next): void => {
    const run = async () => {
      try {
        req.token = await verifier.verify(bearerTokenOf(req.headers.authorization))
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
