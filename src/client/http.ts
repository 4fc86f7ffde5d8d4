import { parseRetryAfter } from './backoff.js'
import { TokenError, TokenNetworkError } from './errors.js'

/**
 * One HTTP exchange with the authorization server, failing with {@link TokenNetworkError} when
 * there is no answer.
 *
 * @example
 * ```ts
 * const res = await transport('https://id.example.com/oauth2/token', { method: 'POST', body })
 * ```
 */
export type Transport = (url: string, init: RequestInit) => Promise<Response>

/**
 * A transport over `fetchImpl` that gives up on an exchange after `timeoutMs` (headers and body).
 *
 * @param fetchImpl - the `fetch` to call
 * @param timeoutMs - the limit of one exchange
 * @example
 * ```ts
 * const transport = createTransport(fetch, 10_000)
 * ```
 */
export function createTransport(fetchImpl: typeof fetch, timeoutMs: number): Transport {
  return async (url, init) => {
    try {
      // A redirect would carry the header dialect's clientSecret header to wherever it points (and
      // turn POST into GET); a 3xx stays an answer, refused below as invalid_response.
      return await fetchImpl(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) })
    } catch (err) {
      throw new TokenNetworkError(url, err)
    }
  }
}

/**
 * Reads the body of `res` as text; a connection lost (or timed out) half-way is a network error.
 *
 * @param res - an answer of the authorization server
 * @param url - where it came from, for the error
 * @example
 * ```ts
 * const text = await readText(res, url)
 * ```
 */
export async function readText(res: Response, url: string): Promise<string> {
  try {
    return await res.text()
  } catch (err) {
    throw new TokenNetworkError(url, err)
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Parses `text` as a JSON object, or returns undefined.
 *
 * @param text - a response body
 * @example
 * ```ts
 * parseJsonObject('{"error":"invalid_client"}')?.error // 'invalid_client'
 * ```
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return isRecord(value) ? value : undefined
  } catch {
    return undefined
  }
}

function codeForStatus(status: number): string {
  if (status === 429 || status === 503) return 'temporarily_unavailable'
  if (status >= 500) return 'server_error'
  return 'invalid_response'
}

/**
 * Turns an unsuccessful answer into a {@link TokenError}: the RFC 6749 §5.2 `error` and
 * `error_description` of its JSON body when it has them, and its `Retry-After`.
 *
 * @param res - an answer with a status other than 2xx
 * @param url - where it came from
 * @param nowMs - the current time, for an HTTP-date `Retry-After`
 * @example
 * ```ts
 * if (!res.ok) throw await tokenErrorFrom(res, url, Date.now())
 * ```
 */
export async function tokenErrorFrom(res: Response, url: string, nowMs: number): Promise<TokenError> {
  const body = parseJsonObject(await readText(res, url))
  const error = typeof body?.error === 'string' && body.error !== '' ? body.error : codeForStatus(res.status)
  const description = typeof body?.error_description === 'string' ? body.error_description : undefined
  return new TokenError(error, {
    status: res.status,
    description: description ?? (body?.error === undefined ? `HTTP ${res.status} from ${url}` : undefined),
    retryAfterSeconds: parseRetryAfter(res.headers.get('retry-after'), nowMs),
  })
}
