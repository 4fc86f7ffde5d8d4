import { secondsUntil, type LimitWindow } from '../domain/client-limits.js'
import type { ReachedLimit } from '../domain/limit-overruns.js'
import type { Clock } from '../domain/ports.js'
import type { ClientCredential, LimitMode } from '../domain/types.js'
import type { ClientLimiter, LimitRefusal } from '../oauth/client-limits.js'
import type { QuotaCounts, QuotaEntry } from './quota-counts.js'
import type { RateCounter, RateWindows } from './rate-windows.js'

export interface ClientLimitsDeps {
  readonly clock: Clock
  readonly rates: RateWindows
  readonly quotas: QuotaCounts
  /** Every request over a limit, refused or (monitor) let through: a metric. */
  readonly overran: (limit: 'rate' | 'quota', mode: LimitMode) => void
  /** The first request over a limit in a window on this instance: audit and webhook, once across instances. */
  readonly reached: (reached: ReachedLimit) => void
}

/**
 * A client's rate limit and quota, decided together: under `enforce` a request over either is
 * refused and counted in neither; under `monitor` every request is let through and counted, and
 * those over a limit are reported.
 */
export class ClientLimits implements ClientLimiter {
  readonly #deps: ClientLimitsDeps

  constructor(deps: ClientLimitsDeps) {
    this.#deps = deps
  }

  admit(credential: ClientCredential): LimitRefusal | undefined | Promise<LimitRefusal | undefined> {
    const { client } = credential
    const now = this.#deps.clock.now().getTime()
    if (client.quota === null) return this.#decide(credential, undefined, now)
    const entry = this.#deps.quotas.entry(client.id, client.quota, now)
    // The first use on this instance waited for the stored count: the time has moved on since.
    return entry instanceof Promise
      ? entry.then((loaded) => this.#decide(credential, loaded, this.#deps.clock.now().getTime()))
      : this.#decide(credential, entry, now)
  }

  #decide(credential: ClientCredential, quota: QuotaEntry | undefined, now: number): LimitRefusal | undefined {
    const { client } = credential
    const rate = client.rateLimit === null ? undefined : this.#deps.rates.current(client.id, client.rateLimit, now)
    const rateOver = rate !== undefined && client.rateLimit !== null && rate.count >= client.rateLimit.requests
    const quotaOver = quota !== undefined && client.quota !== null && quota.seen + quota.unflushed >= client.quota.tokens
    if (rateOver) this.#over(credential, 'rate', rate)
    if (quotaOver) this.#over(credential, 'quota', quota)
    if (client.quotaMode === 'enforce' && (rateOver || quotaOver)) {
      // Both reached: the quota's window is the one to wait for.
      const window: LimitWindow = quotaOver ? quota : rate!
      return { limit: quotaOver ? 'quota' : 'rate', until: new Date(window.end), retryAfterSeconds: secondsUntil(window, now) }
    }
    if (rate) rate.count++
    if (quota) this.#deps.quotas.count(quota, now)
    return undefined
  }

  #over(credential: ClientCredential, limit: 'rate' | 'quota', counter: RateCounter | QuotaEntry): void {
    const { client } = credential
    this.#deps.overran(limit, client.quotaMode)
    if (counter.reported) return
    counter.reported = true
    const value = limit === 'rate' ? client.rateLimit : client.quota
    if (value === null) return
    this.#deps.reached({
      clientId: client.id, accountId: client.accountId, keyPairId: credential.keyPair.id, limit, mode: client.quotaMode, value,
      windowStart: new Date(counter.start), windowEnd: new Date(counter.end),
    })
  }
}
