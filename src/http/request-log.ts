import type { FastifyBaseLogger, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify'
import type { RequestLogMode } from '../config.js'

/** The one line written when a request completes: what happened, never what was sent. */
export interface RequestLine {
  readonly reqId: string
  readonly method: string
  /** The route's pattern (`/api/v1/clients/:id`), never the URL: paths and queries may carry anything. */
  readonly route: string | null
  readonly status: number
  readonly ms: number
  /** The key pair that authenticated (token endpoints, introspection, revocation, a bearer token on the API). */
  readonly client_id?: string
  /** The person behind a dashboard session or a user-level token on the API. */
  readonly user_id?: string
  /** The caller's address, through `KEYMINT_TRUST_PROXY`. */
  readonly address: string
}

const USER_ACTOR = 'user:'

/** The line for one completed request; every field is the server's own finding, none is raw input. */
export function requestLine(request: FastifyRequest, reply: FastifyReply): RequestLine {
  const actor = request.apiCaller?.actor
  return {
    reqId: request.id,
    method: request.method,
    route: request.routeOptions.url ?? null,
    status: reply.statusCode,
    ms: Math.round(reply.elapsedTime * 100) / 100,
    ...(request.clientId === null ? {} : { client_id: request.clientId }),
    ...(actor?.startsWith(USER_ACTOR) ? { user_id: actor.slice(USER_ACTOR.length) } : {}),
    address: request.ip,
  }
}

/**
 * An onResponse hook writing one JSON line per completed request (or per refused one, with
 * `errors`). On the token path this is the only per-request logging work: one flat object and
 * one call, on a logger that redacts nothing (the line holds nothing to redact), no child logger.
 */
export function logRequests(logger: FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }, mode: RequestLogMode): onResponseHookHandler | undefined {
  // The level is fixed at start: below info, there is no hook at all.
  if (mode === 'off' || logger.isLevelEnabled?.('info') === false) return undefined
  const minStatus = mode === 'errors' ? 400 : 0
  return (request, reply, done) => {
    if (reply.statusCode >= minStatus) logger.info(requestLine(request, reply), 'request completed')
    done()
  }
}
