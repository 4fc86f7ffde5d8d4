import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DomainError } from '../domain/errors.js'
import {
  InsufficientScope, InvalidRequest, InvalidToken, OAuthError, RequestTooLarge, retryAfterOf, ServerError, TemporarilyUnavailable, UseDPoPNonce,
} from '../oauth/errors.js'
import { DatabaseUnavailable } from '../store/database.js'

/** How long a client is asked to wait while the database is out of reach: about how often it is tried again. */
const DATABASE_RETRY_AFTER_SECONDS = 2

const DOMAIN_STATUS = { not_found: 404, conflict: 409, forbidden: 403, invalid_state: 409, invalid_input: 400, unauthenticated: 401 } as const

const SAFE_MESSAGES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported content type; send application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
  FST_ERR_BAD_URL: 'the URL is malformed',
}

/** Fastify's own request errors (body, content type, schema) as an OAuth error. */
function fromFastifyError(err: FastifyError): OAuthError | undefined {
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new RequestTooLarge('request body is too large', { cause: err })
  // Schema messages name the field and the rule, never the value sent.
  if (err.validation) return new InvalidRequest(`invalid request: ${err.message}`, { detail: err.message, cause: err })
  const known = err.name === 'SyntaxError' ? 'the body is not valid JSON' : SAFE_MESSAGES[err.code]
  if (known) return new InvalidRequest(known, { detail: err.code, cause: err })
  // Other messages may quote the body (a JSON syntax error does): say nothing of it.
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new InvalidRequest('the request is malformed', { detail: err.code, cause: err })
  }
  return undefined
}

function sendOAuthError(request: FastifyRequest, reply: FastifyReply, err: OAuthError): FastifyReply {
  if (err.status === 401 && (request.clientAuthMethod === 'client_secret_basic' || request.clientAuthMethod === 'none')) {
    // RFC 6749 §5.2: a 401 after (or instead of) Basic authentication carries the challenge.
    reply.header('www-authenticate', 'Basic realm="keymint", charset="UTF-8"')
  }
  const retryAfter = retryAfterOf(err)
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter))
  // RFC 9449 §8: the nonce to put in the next proof.
  if (err instanceof UseDPoPNonce) reply.header('dpop-nonce', err.nonce)
  return reply.status(err.status).header('cache-control', 'no-store').type('application/json; charset=utf-8')
    .send({ error: err.error, error_description: err.message })
}

function sendProblem(reply: FastifyReply, status: number, title: string, detail: string, code?: string): FastifyReply {
  return reply.status(status).type('application/problem+json; charset=utf-8')
    .send({ type: 'about:blank', title, status, detail, ...(code ? { code } : {}) })
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/** The one place errors become responses; routes only throw. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | OAuthError | DomainError | Error, request, reply) => {
    const oauthRoute = request.routeOptions.config.errorFormat === 'oauth'
    let err: unknown = error
    // Whatever needed the database while it is out of reach: 503 and a time to come back, never 500.
    if (err instanceof DatabaseUnavailable) {
      err = new TemporarilyUnavailable('the service is temporarily unavailable; retry later', DATABASE_RETRY_AFTER_SECONDS, { detail: err.message, cause: err })
    }
    if (!(err instanceof OAuthError) && !(err instanceof DomainError)) err = fromFastifyError(error as FastifyError) ?? err

    if (err instanceof OAuthError) {
      // An unreachable database is logged once when found (runtime/database-health.ts); its 503s are not errors of their own.
      const level = err instanceof TemporarilyUnavailable ? 'warn' : err.status >= 500 ? 'error' : 'info'
      request.log[level]({ err: { type: err.name, error: err.error, detail: err.detail }, clientAuthMethod: request.clientAuthMethod }, 'request refused')
      if (oauthRoute) return sendOAuthError(request, reply, err)
      const retryAfter = retryAfterOf(err)
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter))
      if (err instanceof InvalidToken || err instanceof InsufficientScope) {
        // RFC 6750 §3: bearer-protected resources name the error in the challenge.
        reply.header('www-authenticate', `Bearer realm="keymint", error="${err.error}", error_description="${err.message.replace(/["\\]/g, '')}"`)
      }
      return sendProblem(reply, err.status, err.error, err.message)
    }
    if (err instanceof DomainError) {
      request.log.info({ code: err.code }, 'request refused')
      const status = DOMAIN_STATUS[err.kind]
      if (oauthRoute) return sendOAuthError(request, reply, new InvalidRequest(err.message))
      return sendProblem(reply, status, err.kind, err.message, err.code)
    }
    request.log.error({ err }, 'unhandled error')
    if (oauthRoute) return sendOAuthError(request, reply, new ServerError('internal server error'))
    return sendProblem(reply, 500, 'internal server error', 'internal server error')
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    // A known path asked with another method: 405 naming the methods it takes.
    const allowed = METHODS.filter((method) => app.hasRoute({ method, url: path }))
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '))
      if (path.startsWith('/oauth2/') || path.startsWith('/auth/')) {
        return reply.status(405).header('cache-control', 'no-store').type('application/json; charset=utf-8')
          .send({ error: 'invalid_request', error_description: `${path} accepts ${allowed.join(', ')} only` })
      }
      return sendProblem(reply, 405, 'method not allowed', `${path.slice(0, 200)} accepts ${allowed.join(', ')} only`)
    }
    return sendProblem(reply, 404, 'not found', `no route for ${request.method} ${path.slice(0, 200)}`)
  })
}
