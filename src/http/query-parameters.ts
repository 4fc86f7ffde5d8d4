import type { FastifyRequest } from 'fastify'
import { InvalidRequest } from '../oauth/errors.js'

/**
 * As on the token endpoints (RFC 6749 §3.2), a repeated parameter is ambiguous, not "the first
 * one wins". Reads the parsed query as the parser left it, before its schema judged it.
 */
export function refuseRepeatedQueryParameter(request: FastifyRequest, name: string, message: string): void {
  const query: unknown = request.query
  if (typeof query === 'object' && query !== null && Array.isArray(Reflect.get(query, name))) throw new InvalidRequest(message)
}

/**
 * For routes with `attachValidation`: the OAuth endpoints check their parameters in the order
 * they always have (credentials first where they come first), then let the schema's verdict stand.
 */
export function throwIfInvalid(request: FastifyRequest): void {
  if (request.validationError) throw request.validationError
}
