import { withFailureCooldown } from './http.js'
import { readRevocationFeed, type FeedPage } from './revocation-feed.js'
import type { FetchLike, RevocationOptions } from './types.js'

const DEFAULT_INTERVAL_SECONDS = 30
const FIRST_LOAD_RETRY_MS = 5_000

/**
 * The revocations known to this process, kept current by polling the server's feed.
 *
 * @internal
 */
export interface RevocationList {
  /** Resolves once the full state has been read at least once. */
  ready(): Promise<void>
  /** Reads the changes since the last read now. */
  refresh(): Promise<void>
  /** Whether a token with these (verified) claims has been revoked. */
  isRevoked(claims: { readonly jti: string; readonly client_id: string; readonly iat: number }): boolean
  close(): void
}

/**
 * Polls `GET /oauth2/revocations` every `intervalSeconds` (timer unref'd) once first used.
 *
 * @param input - issuer, the feed options, fetch, clock and the clock tolerance in seconds
 * @internal
 */
export function createRevocationList(input: {
  readonly issuer: string
  readonly options: RevocationOptions
  readonly fetch: FetchLike
  readonly now: () => Date
  readonly toleranceSeconds: number
}): RevocationList {
  const intervalSeconds = input.options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS
  if (!Number.isFinite(intervalSeconds) || intervalSeconds < 1) throw new TypeError('keymint/verify: revocation.intervalSeconds must be at least 1')
  const tokens = new Map<string, number>()
  const clients = new Map<string, { issuedBefore: number | undefined; exp: number }>()
  let cursor: string | undefined
  let loaded = false
  let inFlight: Promise<void> | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let closed = false
  const nowSeconds = () => Math.floor(input.now().getTime() / 1000)
  // An entry matters while a token it covers can still pass the `exp` check.
  const live = (exp: number) => exp + input.toleranceSeconds >= nowSeconds()

  function apply(page: FeedPage): void {
    for (const t of page.tokens) tokens.set(t.jti, Math.max(t.exp, tokens.get(t.jti) ?? 0))
    for (const c of page.clients) {
      const known = clients.get(c.clientId)
      // Two entries for one key pair: keep the stricter reading of both.
      const issuedBefore = known === undefined ? c.issuedBefore
        : known.issuedBefore === undefined || c.issuedBefore === undefined ? undefined : Math.max(known.issuedBefore, c.issuedBefore)
      clients.set(c.clientId, { issuedBefore, exp: Math.max(c.exp, known?.exp ?? 0) })
    }
    for (const [jti, exp] of tokens) if (!live(exp)) tokens.delete(jti)
    for (const [id, c] of clients) if (!live(c.exp)) clients.delete(id)
    cursor = page.cursor
    loaded = true
  }

  const poll = (): Promise<void> => {
    inFlight ??= readRevocationFeed({ ...input.options, issuer: input.issuer, cursor, fetch: input.fetch })
      .then(apply)
      .finally(() => { inFlight = undefined })
    return inFlight
  }

  function start(): void {
    if (timer !== undefined || closed) return
    timer = setInterval(() => {
      poll().catch((err: unknown) => input.options.onError?.(err))
    }, intervalSeconds * 1000)
    timer.unref()
  }

  const firstLoad = withFailureCooldown(FIRST_LOAD_RETRY_MS, poll)

  return {
    async ready() {
      start()
      // Fail closed until the full state is known: a token revoked before this process
      // started must not pass in the meantime.
      if (!loaded) await firstLoad()
    },
    async refresh() {
      start()
      // A poll already under way may have started before the change the caller waits for.
      if (inFlight) await inFlight.catch(() => {})
      await poll()
    },
    isRevoked(claims) {
      if (tokens.has(claims.jti)) return true
      const pair = clients.get(claims.client_id)
      return pair !== undefined && live(pair.exp) && (pair.issuedBefore === undefined || claims.iat <= pair.issuedBefore)
    },
    close() {
      closed = true
      clearInterval(timer)
    },
  }
}
