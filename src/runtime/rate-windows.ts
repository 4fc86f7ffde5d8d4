import { rateWindowOf } from '../domain/client-limits.js'
import type { ClientId, RateLimit, RatePeriod } from '../domain/types.js'
import { BoundedMap } from '../oauth/failure-windows.js'

/** A client's token requests in one window of its rate limit, on this instance. */
export interface RateCounter {
  readonly per: RatePeriod
  readonly start: number
  readonly end: number
  count: number
  /** Whether going over in this window was reported already (by this instance). */
  reported: boolean
}

/**
 * Rate limits, per instance: token requests per client in fixed windows aligned on the epoch, so
 * every instance's windows start together. A fixed window lets through up to twice the limit
 * across a boundary; in exchange a request costs a map lookup and an addition. Bounded: past
 * `maxEntries` clients, the least recently started window is forgotten.
 */
export class RateWindows {
  readonly #counters: BoundedMap<RateCounter>

  constructor(maxEntries: number) {
    this.#counters = new BoundedMap(maxEntries)
  }

  /** The client's counter in the window holding `nowMs` (a new one when that window just began). */
  current(clientId: ClientId, limit: RateLimit, nowMs: number): RateCounter {
    const counter = this.#counters.get(clientId)
    if (counter !== undefined && counter.per === limit.per && nowMs >= counter.start && nowMs < counter.end) return counter
    const window = rateWindowOf(limit.per, nowMs)
    const fresh: RateCounter = { per: limit.per, start: window.start, end: window.end, count: 0, reported: false }
    this.#counters.set(clientId, fresh)
    return fresh
  }

  get size(): number { return this.#counters.size }
}
