import type { FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import type { ClientAuthDeps } from '../../oauth/client-auth/authenticate-client.js'
import { InvalidRequest } from '../../oauth/errors.js'
import type { FormParams } from '../form-body.js'
import type { ClientCredentialsDeps } from '../../oauth/grants/client-credentials.js'

/** What both token dialects need: the same authentication and the same grant. */
export interface TokenEndpointDeps {
  readonly auth: ClientAuthDeps
  readonly grant: ClientCredentialsDeps
  readonly tokens: Config['tokens']
  readonly issuer: () => string
  /** Counts a token issued by a dialect. */
  readonly issued: (dialect: 'header' | 'oauth2') => void
}

/** RFC 8707 `resource`, or its common alias `audience`; both at once must agree. */
export function requestedResource(form: FormParams): { resource?: string } {
  const { resource, audience } = form
  if (resource !== undefined && audience !== undefined && resource !== audience) {
    throw new InvalidRequest('resource and audience name different APIs; send one')
  }
  const value = resource ?? audience
  return value === undefined ? {} : { resource: value }
}

export const audienceOf = (deps: TokenEndpointDeps): string => deps.tokens.audience ?? deps.issuer()

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
