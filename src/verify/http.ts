import { VerifierUnavailableError } from './errors.js'
import type { FetchLike } from './types.js'

const TIMEOUT_MS = 5_000

/**
 * GETs a JSON document from the authorization server, or throws {@link VerifierUnavailableError}.
 *
 * @param fetchImpl - the fetch to use
 * @param url - the document's address
 * @param headers - extra request headers (e.g. Authorization)
 * @internal
 */
export async function getJson(fetchImpl: FetchLike, url: string, headers: Record<string, string> = {}): Promise<unknown> {
  let response: Response
  try {
    // Redirects are not followed: metadata and feeds live at the issuer, nowhere else.
    response = await fetchImpl(url, { method: 'GET', headers: { accept: 'application/json', ...headers }, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch (err) {
    throw new VerifierUnavailableError(`keymint/verify: GET ${url} failed`, { cause: err })
  }
  if (response.status !== 200) {
    await response.body?.cancel()
    throw new VerifierUnavailableError(`keymint/verify: GET ${url} answered ${response.status}`)
  }
  try {
    return await response.json()
  } catch (err) {
    throw new VerifierUnavailableError(`keymint/verify: GET ${url} did not answer JSON`, { cause: err })
  }
}

/**
 * Remembers a failure for a few seconds so a down server is not asked again on every request.
 *
 * @param retryMs - how long a failure is remembered
 * @param load - the operation to guard
 * @internal
 */
export function withFailureCooldown<T>(retryMs: number, load: () => Promise<T>): () => Promise<T> {
  let failure: { at: number; err: unknown } | undefined
  return async () => {
    if (failure && Date.now() - failure.at < retryMs) throw failure.err
    try {
      const value = await load()
      failure = undefined
      return value
    } catch (err) {
      failure = { at: Date.now(), err }
      throw err
    }
  }
}
