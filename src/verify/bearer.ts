import { DEFAULT_DPOP_ALGORITHMS } from './dpop.js'
import { VerifyError } from './errors.js'

// RFC 6750 §2.1 / RFC 9449 §7.1: credentials = ("Bearer" / "DPoP") 1*SP b64token (schemes are case-insensitive, RFC 9110 §11.1).
const CREDENTIALS = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i

/**
 * The scheme and token of an `Authorization` header, or `invalid_token`: marked `missing` when
 * the request carries no Bearer or DPoP credentials at all.
 *
 * @param authorization - the header as Node parsed it
 * @internal
 */
export function credentialsOf(authorization: string | readonly string[] | undefined): { readonly scheme: 'Bearer' | 'DPoP'; readonly token: string } {
  const value = Array.isArray(authorization) ? authorization[0] : authorization
  const scheme = typeof value === 'string' ? /^(bearer|dpop)(\s|$)/i.exec(value.trim())?.[1]?.toLowerCase() : undefined
  if (scheme === undefined) throw new VerifyError('invalid_token', 'a bearer token is required', { missing: true })
  const match = CREDENTIALS.exec(value as string)
  if (match?.[2] === undefined) {
    throw scheme === 'dpop'
      ? new VerifyError('invalid_token', 'the Authorization header is not a valid DPoP credential', { scheme: 'DPoP' })
      : new VerifyError('invalid_token', 'the Authorization header is not a valid bearer credential')
  }
  return { scheme: scheme === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] }
}

/**
 * Takes the token out of an `Authorization: Bearer` header value, or throws `invalid_token`:
 * marked `missing` when the request carries no bearer credentials at all.
 *
 * @param authorization - the header as Node parsed it
 * @internal
 */
export function bearerTokenOf(authorization: string | readonly string[] | undefined): string {
  const value = Array.isArray(authorization) ? authorization[0] : authorization
  if (typeof value !== 'string' || !/^bearer(\s|$)/i.test(value.trim())) {
    throw new VerifyError('invalid_token', 'a bearer token is required', { missing: true })
  }
  return credentialsOf(value).token
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
 * The answer to a refused token: 401 `invalid_token` (or `invalid_dpop_proof`) or 403
 * `insufficient_scope`, with a JSON body of the same error and the challenge of the scheme in
 * play: `Bearer` (RFC 6750 §3) or `DPoP` with the accepted `algs` (RFC 9449 §7.1). A request
 * without credentials is offered both, naming no error.
 *
 * @param err - the refusal
 * @internal
 */
export function bearerRefusal(err: VerifyError): BearerRefusal {
  const algs = `algs=${quoted((err.algs ?? DEFAULT_DPOP_ALGORITHMS).join(' '))}`
  const params: string[] = []
  if (!err.missing) {
    params.push(`error=${quoted(err.code)}`, `error_description=${quoted(err.message)}`)
    if (err.scope !== undefined) params.push(`scope=${quoted(err.scope)}`)
  }
  let challenge: string
  if (err.missing) challenge = `Bearer, DPoP ${algs}`
  else if (err.scheme === 'DPoP') challenge = `DPoP ${[...params, algs].join(', ')}`
  else challenge = `Bearer ${params.join(', ')}`
  return { status: err.status, wwwAuthenticate: challenge, body: { error: err.code, error_description: err.message } }
}
