import { asksForNonce } from './dpop.js'

/**
 * Where {@link fetchWithBearer} gets its token and the headers that present it, and how it
 * reports one the API refused.
 *
 * @example
 * ```ts
 * const source: BearerSource = { getTokenResponse, invalidate, credentials, noteNonce }
 * ```
 */
export interface BearerSource {
  getTokenResponse(): Promise<{ readonly accessToken: string; readonly tokenType: string }>
  invalidate(token: string): void
  /** `authorization` (and for a DPoP-bound token a `dpop` proof) for one request. */
  credentials(token: { readonly accessToken: string; readonly tokenType: string }, method: string, url: string): Promise<Record<string, string>>
  /** Remembers a `DPoP-Nonce` the API sent; true when it sent one. */
  noteNonce(url: string, response: Response): boolean
}

const isRequest = (input: unknown): input is Request => typeof Request !== 'undefined' && input instanceof Request

function isStream(body: unknown): boolean {
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return true
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body
}

/** A body that is read as it is sent cannot be sent a second time. */
function canReplay(input: string | URL | Request, init: RequestInit): boolean {
  if (init.body !== undefined && init.body !== null) return !isStream(init.body)
  return !isRequest(input) || !input.bodyUsed
}

function withCredentials(input: string | URL | Request, init: RequestInit, credentials: Record<string, string>): RequestInit {
  // Headers given in init replace those of a Request input (as fetch does), so start from the right set.
  const headers = new Headers(init.headers ?? (isRequest(input) ? input.headers : undefined))
  for (const [name, value] of Object.entries(credentials)) headers.set(name, value)
  return { ...init, headers }
}

/**
 * Calls an API with `Authorization: Bearer <token>` (or `DPoP <token>` and a proof); on a `401`
 * (RFC 6750 §3.1: the token is expired, revoked or otherwise not accepted) it drops that token,
 * gets a fresh one and sends the request once more; a `401` asking for a DPoP nonce (RFC 9449 §9)
 * is answered first, with a new proof carrying it. Never more than two retries, and none when
 * the body was a stream that cannot be sent twice.
 *
 * @param source - the token client
 * @param fetchImpl - the `fetch` to call the API with
 * @param input - the API URL or Request
 * @param init - as for `fetch`
 * @example
 * ```ts
 * const res = await fetchWithBearer(source, fetch, 'https://api.example.com/assets')
 * ```
 */
export async function fetchWithBearer(
  source: BearerSource,
  fetchImpl: typeof fetch,
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  const replayable = canReplay(input, init)
  // A Request's body can be read once: a copy for each send that may follow.
  const copies = replayable && isRequest(input) ? [input.clone(), input.clone()] : []
  const method = (init.method ?? (isRequest(input) ? input.method : 'GET')).toUpperCase()
  const url = isRequest(input) ? input.url : String(input)
  let token = await source.getTokenResponse()
  let target = input
  let refreshed = false
  let nonceAnswered = false
  for (;;) {
    const res = await fetchImpl(target, withCredentials(target, init, await source.credentials(token, method, url)))
    const gotNonce = source.noteNonce(url, res)
    if (res.status !== 401 || !replayable) return res
    const nonce = token.tokenType === 'DPoP' && gotNonce && !nonceAnswered && asksForNonce(res)
    if (!nonce && refreshed) return res
    await res.body?.cancel().catch(() => undefined)
    if (nonce) {
      nonceAnswered = true
    } else {
      source.invalidate(token.accessToken)
      token = await source.getTokenResponse()
      refreshed = true
    }
    target = copies.shift() ?? input
  }
}
