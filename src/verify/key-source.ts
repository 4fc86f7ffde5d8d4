import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose'
import { VerifierUnavailableError } from './errors.js'
import { getJson, withFailureCooldown } from './http.js'
import type { FetchLike } from './types.js'

const DISCOVERY_RETRY_MS = 5_000

// Failures that say something about the token (its kid or alg), not about the server.
const TOKEN_FAULTS = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ERR_JOSE_NOT_SUPPORTED'])

/**
 * The issuer's base URL for well-known paths. keymint serves its metadata at
 * `${issuer}/.well-known/…`, also behind a path-prefixing proxy, so the suffix form is used
 * rather than RFC 8414 §3.1's infix form.
 */
const wellKnown = (issuer: string) => `${issuer.replace(/\/+$/, '')}/.well-known/oauth-authorization-server`

/**
 * Reads the issuer's RFC 8414 metadata and returns its `jwks_uri`.
 *
 * @param issuer - the expected issuer
 * @param fetchImpl - the fetch to use
 * @internal
 */
export async function discoverJwksUri(issuer: string, fetchImpl: FetchLike): Promise<URL> {
  const url = wellKnown(issuer)
  const metadata = await getJson(fetchImpl, url)
  if (typeof metadata !== 'object' || metadata === null) throw new VerifierUnavailableError(`keymint/verify: ${url} is not a metadata document`)
  const { issuer: announced, jwks_uri: jwksUri } = metadata as Record<string, unknown>
  // RFC 8414 §3.3: the metadata's issuer MUST be identical to the issuer it was fetched for.
  if (announced !== issuer) {
    throw new VerifierUnavailableError(`keymint/verify: ${url} announces issuer ${JSON.stringify(announced)}, expected ${JSON.stringify(issuer)}`)
  }
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri) || !/^https?:$/.test(new URL(jwksUri).protocol)) {
    throw new VerifierUnavailableError(`keymint/verify: ${url} has no usable jwks_uri`)
  }
  return new URL(jwksUri)
}

/**
 * A jose key resolver over the issuer's JWKS, discovered on first use; jose caches the set and
 * refetches it for an unknown `kid` at most every 30 seconds.
 *
 * @param issuer - the expected issuer
 * @param fetchImpl - the fetch to use
 * @internal
 */
export function createKeySource(issuer: string, fetchImpl: FetchLike): JWTVerifyGetKey {
  let remote: Promise<RemoteJWKSet> | undefined
  const discover = withFailureCooldown(DISCOVERY_RETRY_MS, async () =>
    createRemoteJWKSet(await discoverJwksUri(issuer, fetchImpl), { [customFetch]: fetchImpl }))
  const jwks = () => {
    remote ??= discover().catch((err: unknown) => {
      remote = undefined
      throw err
    })
    return remote
  }
  return async (header, token) => {
    const set = await jwks()
    try {
      return await set(header, token)
    } catch (err) {
      if (err instanceof errors.JOSEError && TOKEN_FAULTS.has(err.code)) throw err
      throw new VerifierUnavailableError('keymint/verify: the JWKS could not be read', { cause: err })
    }
  }
}
