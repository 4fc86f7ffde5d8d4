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
 * and RFC 8707 `resource`, authenticated with client_secret_basic.
 *
 * @param s - the client's settings
 * @example
 * ```ts
 * const res = await transport(tokenEndpoint, oauth2TokenRequest(settings))
 * ```
 */
export function oauth2TokenRequest(s: ClientSettings): RequestInit {
  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  if (s.scope !== undefined) form.set('scope', s.scope)
  if (s.resource !== undefined) form.set('resource', s.resource)
  return {
    method: 'POST',
    headers: {
      authorization: basicAuthorization(s.clientId, s.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
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
 * Reads an RFC 6749 §5.1 success answer: `access_token`, a `Bearer` `token_type`, `expires_in`, `scope`.
 *
 * @param res - a 2xx answer of the token endpoint
 * @param url - where it came from
 * @example
 * ```ts
 * const issued = await readOAuth2Token(res, url)
 * ```
 */
export async function readOAuth2Token(res: Response, url: string): Promise<IssuedToken> {
  const body = parseJsonObject(await readText(res, url))
  if (body === undefined) throw new TokenError('invalid_response', { status: res.status, description: 'the token response is not a JSON object' })
  const accessToken = requireBearerToken(body.access_token, res.status)
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
    throw new TokenError('invalid_response', { status: res.status, description: 'token_type is not Bearer' })
  }
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: expiresIn(body.expires_in),
    scope: typeof body.scope === 'string' ? body.scope : undefined,
  }
}
