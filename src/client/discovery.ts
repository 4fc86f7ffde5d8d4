import { TokenError } from './errors.js'
import { parseJsonObject, readText, tokenErrorFrom, type Transport } from './http.js'

/**
 * Finds the token endpoint in the issuer's RFC 8414 metadata at
 * `${issuer}/.well-known/oauth-authorization-server`, checking that the metadata names the same
 * issuer (RFC 8414 §3.3), so a wrong or spoofed document is refused.
 *
 * @param issuer - the issuer URL, without a trailing slash
 * @param transport - how to call it
 * @param nowMs - the current time, for a `Retry-After`
 * @example
 * ```ts
 * const tokenEndpoint = await discoverTokenEndpoint('https://id.example.com', transport, Date.now())
 * ```
 */
export async function discoverTokenEndpoint(issuer: string, transport: Transport, nowMs: number): Promise<string> {
  const url = `${issuer}/.well-known/oauth-authorization-server`
  const res = await transport(url, { method: 'GET', headers: { accept: 'application/json' } })
  if (!res.ok) throw await tokenErrorFrom(res, url, nowMs)
  const metadata = parseJsonObject(await readText(res, url))
  const refuse = (description: string) => new TokenError('invalid_response', { status: res.status, description })
  if (metadata === undefined) throw refuse(`${url} is not a JSON object`)
  if (typeof metadata.issuer !== 'string' || metadata.issuer.replace(/\/+$/, '') !== issuer) {
    throw refuse(`the metadata names issuer ${JSON.stringify(metadata.issuer)}, not ${issuer}`)
  }
  const endpoint = metadata.token_endpoint
  if (typeof endpoint !== 'string') throw refuse('the metadata has no token_endpoint')
  try {
    new URL(endpoint)
  } catch (err) {
    throw new TokenError('invalid_response', { status: res.status, description: 'token_endpoint is not an absolute URL', cause: err })
  }
  return endpoint
}
