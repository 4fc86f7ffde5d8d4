import type { FastifyRequest } from 'fastify'
import { InvalidRequest } from '../oauth/errors.js'

/** Token endpoints take form bodies only (RFC 6749 §4.4.2); anything else is refused before parsing. */
export async function acceptFormOnly(request: FastifyRequest): Promise<void> {
  const encoding = request.headers['content-encoding']
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new InvalidRequest('compressed request bodies are not accepted')
  }
  const type = request.headers['content-type']
  if (type === undefined) return
  const media = type.split(';', 1)[0]?.trim().toLowerCase()
  if (media !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequest('the request body must be application/x-www-form-urlencoded')
  }
}

/**
 * The header dialect carries its credentials in headers, so an empty body is fine whatever its
 * `Content-Type` (JavaScript's `fetch(url, {method: 'POST', body: ''})` sends `text/plain`);
 * only a non-empty body must be a form.
 */
export async function acceptEmptyBodyOrForm(request: FastifyRequest): Promise<void> {
  const length = request.headers['content-length']
  if (request.headers['transfer-encoding'] === undefined && (length === undefined || length.trim() === '0')) {
    // Nothing to parse: without a type, Fastify skips its parsers (which refuse text/plain).
    delete request.headers['content-type']
    return
  }
  await acceptFormOnly(request)
}

/**
 * A request without a body reads as an empty form, so its schema applies and the handler says
 * which parameter is missing (a preValidation hook).
 */
export async function readMissingBodyAsEmptyForm(request: FastifyRequest): Promise<void> {
  request.body ??= {}
}
