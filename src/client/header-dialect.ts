import { readText } from './http.js'
import type { ClientSettings } from './options.js'
import { requireBearerToken, type IssuedToken } from './token-response.js'

/**
 * keymint's header dialect request: credentials in the `clientId` and `clientSecret` headers, and
 * a form body only when there is an `encrypted` or `resource` field to send.
 *
 * @param s - the client's settings
 * @example
 * ```ts
 * const res = await transport(`${issuer}/auth/oauth`, headerTokenRequest(settings))
 * ```
 */
export function headerTokenRequest(s: ClientSettings): RequestInit {
  const headers: Record<string, string> = { clientId: s.clientId, clientSecret: s.clientSecret, accept: 'text/plain' }
  const form = new URLSearchParams()
  if (s.encrypted !== undefined) form.set('encrypted', s.encrypted)
  if (s.resource !== undefined) form.set('resource', s.resource)
  const body = form.toString()
  if (body === '') return { method: 'POST', headers }
  return { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body }
}

/**
 * Reads a header dialect success answer: the body is the token (a JWS, or a JWE when encrypted)
 * and nothing else; its lifetime is left to the JWT's claims or the assumed default.
 *
 * @param res - a 2xx answer of `/auth/oauth` or `/auth/oidc`
 * @param url - where it came from
 * @example
 * ```ts
 * const issued = await readHeaderToken(res, url)
 * ```
 */
export async function readHeaderToken(res: Response, url: string): Promise<IssuedToken> {
  const accessToken = requireBearerToken((await readText(res, url)).trim(), res.status)
  return { accessToken, tokenType: 'Bearer', expiresIn: undefined, scope: undefined }
}
