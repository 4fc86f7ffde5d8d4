import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { InvalidRequest } from '../oauth/errors.js'

// Callback-style hooks: they run on every token request, and a promise per hook is measurable there.

/** Why a token endpoint refuses the body's media type or encoding before parsing it; undefined when it does not. */
function refusedBody(request: FastifyRequest): InvalidRequest | undefined {
  const encoding = request.headers['content-encoding']
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return new InvalidRequest('compressed request bodies are not accepted')
  }
  const type = request.headers['content-type']
  if (type === undefined) return undefined
  const media = type.split(';', 1)[0]?.trim().toLowerCase()
  if (media !== 'application/x-www-form-urlencoded') {
    return new InvalidRequest('the request body must be application/x-www-form-urlencoded')
  }
  return undefined
}

/** Token endpoints take form bodies only (RFC 6749 §4.4.2); anything else is refused before parsing. */
export function acceptFormOnly(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  done(refusedBody(request))
}

/**
 * The header dialect carries its credentials in headers, so an empty body is fine whatever its
 * `Content-Type` (JavaScript's `fetch(url, {method: 'POST', body: ''})` sends `text/plain`);
 * only a non-empty body must be a form.
 */
export function acceptEmptyBodyOrForm(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const length = request.headers['content-length']
  if (request.headers['transfer-encoding'] === undefined && (length === undefined || length.trim() === '0')) {
    // Nothing to parse: without a type, Fastify skips its parsers (which refuse text/plain).
    delete request.headers['content-type']
    done()
    return
  }
  done(refusedBody(request))
}

/**
 * A request without a body reads as an empty form, so its schema applies and the handler says
 * which parameter is missing (a preValidation hook).
 */
export function readMissingBodyAsEmptyForm(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  request.body ??= {}
  done()
}
