/**
 * Where {@link fetchWithBearer} gets its token, and how it reports one the API refused.
 *
 * @example
 * ```ts
 * const source: BearerSource = tokenClient
 * ```
 */
export interface BearerSource {
  getToken(): Promise<string>
  invalidate(token: string): void
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

function withBearer(input: string | URL | Request, init: RequestInit, token: string): RequestInit {
  // Headers given in init replace those of a Request input (as fetch does), so start from the right set.
  const headers = new Headers(init.headers ?? (isRequest(input) ? input.headers : undefined))
  headers.set('authorization', `Bearer ${token}`)
  return { ...init, headers }
}

/**
 * Calls an API with `Authorization: Bearer <token>`; on a `401` (RFC 6750 §3.1: the token is
 * expired, revoked or otherwise not accepted) it drops that token, gets a fresh one and sends the
 * request once more, unless its body was a stream that cannot be sent twice.
 *
 * @param source - the token client
 * @param fetchImpl - the `fetch` to call the API with
 * @param input - the API URL or Request
 * @param init - as for `fetch`
 * @example
 * ```ts
 * const res = await fetchWithBearer(client, fetch, 'https://api.example.com/assets')
 * ```
 */
export async function fetchWithBearer(
  source: BearerSource,
  fetchImpl: typeof fetch,
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  const replayable = canReplay(input, init)
  const replay = replayable && isRequest(input) ? input.clone() : input
  const token = await source.getToken()
  const first = await fetchImpl(input, withBearer(input, init, token))
  if (first.status !== 401 || !replayable) return first
  source.invalidate(token)
  await first.body?.cancel().catch(() => undefined)
  const fresh = await source.getToken()
  return fetchImpl(replay, withBearer(replay, init, fresh))
}
