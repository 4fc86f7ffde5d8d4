import { describeQuota, describeRateLimit } from '../domain/client-limits.js'
import type { Client, ClientCredential } from '../domain/types.js'
import { QuotaExceeded, RateLimitExceeded } from './errors.js'

/** Why a limited client's request is refused (only under `enforce`). */
export interface LimitRefusal {
  readonly limit: 'rate' | 'quota'
  /** When the window ends: the request may succeed from then on. */
  readonly until: Date
  readonly retryAfterSeconds: number
}

/**
 * Counts the token requests of clients that have a rate limit or a quota. Answers from memory;
 * only a quota's first use on an instance reads its count so far, hence the promise.
 */
export interface ClientLimiter {
  /** Counts the request, or says why it is refused; undefined: it may go on. */
  admit(credential: ClientCredential): LimitRefusal | undefined | Promise<LimitRefusal | undefined>
}

/** Whether the client has a limit at all: those without cost nothing more. */
export const hasLimits = (client: Client): boolean => client.rateLimit !== null || client.quota !== null

/** RFC 6585 §4: 429 with `Retry-After`, the body naming the limit that was reached. */
export function refuseOverLimit(client: Client, refusal: LimitRefusal): never {
  if (refusal.limit === 'rate' && client.rateLimit) {
    throw new RateLimitExceeded(`the client's rate limit of ${describeRateLimit(client.rateLimit)} is reached; retry in ${refusal.retryAfterSeconds} s`, refusal.retryAfterSeconds)
  }
  const quota = client.quota ? `of ${describeQuota(client.quota)} ` : ''
  throw new QuotaExceeded(`the client's quota ${quota}is used up until ${refusal.until.toISOString()}`, refusal.retryAfterSeconds)
}
