import { readFile } from 'node:fs/promises'
import { TokenError } from './errors.js'

/**
 * Where a workload's platform token comes from (workload identity federation): a file read
 * again for every token request (a Kubernetes projected service account token, which the
 * kubelet replaces before it expires), or a function called for every token request (GitHub
 * Actions: ask the runner for a new OIDC token).
 *
 * @example
 * ```ts
 * const source: PlatformTokenSource = { file: '/var/run/secrets/keymint/token' }
 * ```
 */
export type PlatformTokenSource = { readonly file: string } | (() => string | Promise<string>)

/**
 * How keymint gets the platform token: exchanged (RFC 8693 token exchange, the default) or as
 * the client assertion of a client credentials request (RFC 7523 §2.2).
 *
 * @example
 * ```ts
 * const use: PlatformTokenUse = 'client_assertion'
 * ```
 */
export type PlatformTokenUse = 'token_exchange' | 'client_assertion'

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt'
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const COMPACT_JWT = /^[\w-]+\.[\w-]+\.[\w-]*$/

/**
 * Reads the current platform token; a source that fails, or yields something other than a
 * compact JWT, is a `platform_token_unavailable` error (not retried: asking again changes nothing).
 *
 * @param source - a file or a function
 * @example
 * ```ts
 * const token = await readPlatformToken({ file: '/var/run/secrets/keymint/token' })
 * ```
 */
export async function readPlatformToken(source: PlatformTokenSource): Promise<string> {
  let text: string
  try {
    text = typeof source === 'function' ? await source() : await readFile(source.file, 'utf8')
  } catch (err) {
    const where = typeof source === 'function' ? 'the platform token function failed' : `cannot read the platform token file ${source.file}`
    throw new TokenError('platform_token_unavailable', { description: where, cause: err })
  }
  const token = typeof text === 'string' ? text.trim() : ''
  if (!COMPACT_JWT.test(token)) throw new TokenError('platform_token_unavailable', { description: 'the platform token is not a JWT' })
  return token
}

/**
 * The token request that presents a platform token: a token exchange, or client credentials with
 * the token as the client assertion; `clientId` names the trust policy when several accept it,
 * and `dpopProof` (RFC 9449) binds the token to the proof's key.
 *
 * @param token - the platform token
 * @param opts - how to present it, and the optional scope, resource, policy id and DPoP proof
 * @example
 * ```ts
 * const init = platformTokenRequest(token, { use: 'token_exchange', scope: 'orders:read' })
 * ```
 */
export function platformTokenRequest(token: string, opts: {
  use: PlatformTokenUse; scope?: string | undefined; resource?: string | undefined; clientId?: string | undefined; dpopProof?: string | undefined
}): RequestInit {
  const form = opts.use === 'token_exchange'
    ? new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token: token, subject_token_type: JWT_TOKEN_TYPE })
    : new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: token })
  if (opts.clientId !== undefined) form.set('client_id', opts.clientId)
  if (opts.scope !== undefined) form.set('scope', opts.scope)
  if (opts.resource !== undefined) form.set('resource', opts.resource)
  return {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      ...(opts.dpopProof === undefined ? {} : { dpop: opts.dpopProof }),
    },
    body: form.toString(),
  }
}
