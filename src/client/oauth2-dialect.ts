import { TokenError } from './errors.js'
import { parseJsonObject, readText } from './http.js'
import type { ClientSettings } from './options.js'
import { requireBearerToken, type IssuedToken } from './token-response.js'

const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1)

/**
 * RFC 6749 §2.3.1 client_secret_basic: id and secret are form-encoded before they are joined and
 * base64-encoded, so a `:` or non-ASCII character in either survives.
 *
 * @param clientId - the client_id
 * @param clientSecret - the client_secret
 * @example
 * ```ts
 * headers.set('authorization', basicAuthorization(clientId, clientSecret))
 * ```
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${btoa(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`
}

/**
 * The RFC 6749 §4.4.2 access token request: `grant_type=client_credentials` with optional `scope`
 * and RFC 8707 `resource`, authenticated with client_secret_basic; with a DPoP proof when given.
 *
 * @param s - the client's settings
 * @param dpopProof - an RFC 9449 proof for this request
 * @example
 * ```ts
 * const res = await transport(tokenEndpoint, oauth2TokenRequest(settings))
 * ```
 */
export function oauth2TokenRequest(s: ClientSettings, dpopProof?: string): RequestInit {
  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  if (s.scope !== undefined) form.set('scope', s.scope)
  if (s.resource !== undefined) form.set('resource', s.resource)
  return {
    method: 'POST',
    headers: {
      authorization: basicAuthorization(s.clientId, s.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      // RFC 9449 §5: the proof that binds the token to the client's key.
      ...(dpopProof === undefined ? {} : { dpop: dpopProof }),
    },
    body: form.toString(),
  }
}

function expiresIn(value: unknown): number | undefined {
  // RFC 6749 §5.1 makes expires_in RECOMMENDED; some servers send it as a string.
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined
}

/**
 * Reads an RFC 6749 §5.1 success answer: `access_token`, the `token_type` asked for (`Bearer`,
 * or `DPoP` after a proof: RFC 9449 §5 — a server that ignored the proof is refused, as its token
 * would not be sender-constrained), `expires_in`, `scope`.
 *
 * @param res - a 2xx answer of the token endpoint
 * @param url - where it came from
 * @param expected - the token type the request asked for
 * @example
 * ```ts
 * const issued = await readOAuth2Token(res, url, 'Bearer')
 * ```
 */
export async function readOAuth2Token(res: Response, url: string, expected: 'Bearer' | 'DPoP'): Promise<IssuedToken> {
  const body = parseJsonObject(await readText(res, url))
  if (body === undefined) throw new TokenError('invalid_response', { status: res.status, description: 'the token response is not a JSON object' })
  const accessToken = requireBearerToken(body.access_token, res.status)
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== expected.toLowerCase()) {
    throw new TokenError('invalid_response', { status: res.status, description: `token_type is not ${expected}` })
  }
  return {
    accessToken,
    tokenType: expected,
    expiresIn: expiresIn(body.expires_in),
    scope: typeof body.scope === 'string' ? body.scope : undefined,
  }
}
