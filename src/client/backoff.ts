import { TokenError } from './errors.js'

/**
 * How often and how long to wait between attempts at a transient failure.
 *
 * @example
 * ```ts
 * const policy: RetryPolicy = { maxRetries: 4, baseMs: 250, maxDelayMs: 10_000 }
 * ```
 */
export interface RetryPolicy {
  /** Attempts after the first; 0 disables retries. */
  readonly maxRetries: number
  /** Ceiling of the first delay; each later ceiling doubles. */
  readonly baseMs: number
  /** No delay is longer; a `Retry-After` beyond it ends the retries. */
  readonly maxDelayMs: number
}

/**
 * Exponential backoff with equal jitter: a delay between half and all of `min(maxDelayMs, baseMs·2^retry)`,
 * so clients that failed together do not come back together.
 *
 * @param retry - 0 for the first retry
 * @param policy - base and cap of the delays
 * @param random - a source of numbers in [0, 1)
 * @example
 * ```ts
 * backoffDelayMs(2, { maxRetries: 4, baseMs: 250, maxDelayMs: 10_000 }) // 500…1000
 * ```
 */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** retry)
  return ceiling / 2 + (random() * ceiling) / 2
}

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as seconds from now.
 *
 * @param value - the header value, or null when absent
 * @param nowMs - the current time, to measure an HTTP-date against
 * @example
 * ```ts
 * parseRetryAfter('120', Date.now()) // 120
 * ```
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text)
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, Math.ceil((date - nowMs) / 1000))
}

/**
 * The wait before the next attempt after `err`: the server's `Retry-After` when it gave one, else a
 * jittered backoff; undefined when the server asked for longer than `maxDelayMs` (then failing at
 * once, with `retryAfterSeconds` on the error, serves the caller better than blocking).
 *
 * @param err - the failure of the last attempt
 * @param retry - 0 for the first retry
 * @param policy - base and cap of the delays
 * @param random - a source of numbers in [0, 1)
 * @example
 * ```ts
 * const ms = nextDelayMs(err, 0, policy)
 * if (ms === undefined) throw err
 * ```
 */
export function nextDelayMs(err: unknown, retry: number, policy: RetryPolicy, random: () => number = Math.random): number | undefined {
  if (err instanceof TokenError && err.retryAfterSeconds !== undefined) {
    const ms = err.retryAfterSeconds * 1000
    return ms > policy.maxDelayMs ? undefined : ms
  }
  return backoffDelayMs(retry, policy, random)
}
