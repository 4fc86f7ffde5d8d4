import { VerifyError } from './errors.js'

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token (the scheme is case-insensitive, RFC 9110 §11.1).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

/**
 * Takes the token out of an `Authorization` header value, or throws `invalid_token`: marked
 * `missing` when the request carries no bearer credentials at all.
 *
 * @param authorization - the header as Node parsed it
 * @internal
 */
export function bearerTokenOf(authorization: string | readonly string[] | undefined): string {
  const value = Array.isArray(authorization) ? authorization[0] : authorization
  if (typeof value !== 'string' || !/^bearer(\s|$)/i.test(value.trim())) {
    throw new VerifyError('invalid_token', 'a bearer token is required', { missing: true })
  }
  const token = BEARER.exec(value)?.[1]
  if (token === undefined) throw new VerifyError('invalid_token', 'the Authorization header is not a valid bearer credential')
  return token
}

/**
 * What to answer a refused request with.
 *
 * @internal
 */
export interface BearerRefusal {
  readonly status: 401 | 403
  readonly wwwAuthenticate: string
  readonly body: { readonly error: string; readonly error_description: string }
}

// RFC 6750 §3: error_description and scope are quoted strings without '"' or '\'.
const quoted = (value: string) => `"${value.replace(/[^\x20-\x7e]|["\\]/g, '')}"`

/**
 * The RFC 6750 §3 answer to a refused token: 401 `invalid_token` or 403 `insufficient_scope`,
 * with the `WWW-Authenticate: Bearer` challenge and a JSON body of the same error.
 *
 * @param err - the refusal
 * @internal
 */
export function bearerRefusal(err: VerifyError): BearerRefusal {
  const params: string[] = []
  // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
  if (!err.missing) {
    params.push(`error=${quoted(err.code)}`, `error_description=${quoted(err.message)}`)
    if (err.scope !== undefined) params.push(`scope=${quoted(err.scope)}`)
  }
  return {
    status: err.status,
    wwwAuthenticate: params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`,
    body: { error: err.code, error_description: err.message },
  }
}
