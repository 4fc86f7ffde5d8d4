import { nextDelayMs, type RetryPolicy } from './backoff.js'
import { TokenError, TokenNetworkError } from './errors.js'

/**
 * Whether another attempt may succeed: no answer at all, a 5xx, or a 429. Other 4xx answers
 * (`invalid_client` above all) are final: repeating them only feeds the server's failed-login throttle.
 *
 * @param err - the failure of an attempt
 * @example
 * ```ts
 * isTransient(new TokenError('server_error', { status: 503 })) // true
 * ```
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof TokenNetworkError) return true
  if (!(err instanceof TokenError) || err.status === undefined) return false
  return err.status >= 500 || err.status === 429
}

/**
 * Waits `ms` milliseconds.
 *
 * @param ms - how long
 * @example
 * ```ts
 * await sleep(100)
 * ```
 */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs `attempt` until it succeeds, fails for good, or `policy.maxRetries` retries are spent; the
 * last failure is thrown as it was.
 *
 * @param attempt - one try
 * @param policy - how often and how long to wait
 * @param wait - how to wait (a recorder in tests)
 * @param random - a source of numbers in [0, 1) for the jitter
 * @example
 * ```ts
 * const res = await withRetries(() => requestToken(), { maxRetries: 4, baseMs: 250, maxDelayMs: 10_000 })
 * ```
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  wait: (ms: number) => Promise<void> = sleep,
  random: () => number = Math.random,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt()
    } catch (err) {
      if (retry >= policy.maxRetries || !isTransient(err)) throw err
      const delay = nextDelayMs(err, retry, policy, random)
      if (delay === undefined) throw err
      await wait(delay)
    }
  }
}
