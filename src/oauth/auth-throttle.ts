import type { Clock } from '../domain/ports.js'

export interface ThrottlePolicy {
  /** Length of the counting window, and of a refusal, in seconds. */
  readonly windowSeconds: number
  /** Failures from one address within a window before that address is refused. */
  readonly addressLimit: number
  /** Failures for one client_id within a window before it is refused (except from its known addresses). */
  readonly clientLimit: number
  /** Most counters kept; the oldest are dropped first, so memory stays bounded under a flood. */
  readonly maxEntries: number
}

export type ThrottleVerdict =
  | { readonly action: 'allow'; readonly delayMs: number }
  | { readonly action: 'refuse'; readonly retryAfterSeconds: number }

interface Counter { windowStart: number; failures: number }

// Failed answers are slowed once half the limit is used: 100 ms per further failure, at most 2 s.
const DELAY_STEP_MS = 100
const MAX_DELAY_MS = 2000

/** Bounded map in insertion order; re-inserting moves a key to the end. */
class BoundedMap<V> {
  readonly #map = new Map<string, V>()
  constructor(readonly max: number) {}
  get(key: string): V | undefined { return this.#map.get(key) }
  set(key: string, value: V): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value as string)
  }
  delete(key: string): void { this.#map.delete(key) }
  get size(): number { return this.#map.size }
}

/**
 * Failed client authentication, counted per remote address and per client_id in fixed
 * windows. An address over its limit is refused until its window ends. A client_id over its
 * limit is refused too, except from addresses it recently authenticated from, so an attacker
 * guessing at one client_id cannot lock the real integration out.
 */
export class AuthThrottle {
  readonly #addresses: BoundedMap<Counter>
  readonly #clients: BoundedMap<Counter>
  readonly #knownGood: BoundedMap<number>

  constructor(readonly policy: ThrottlePolicy, readonly clock: Clock) {
    this.#addresses = new BoundedMap(policy.maxEntries)
    this.#clients = new BoundedMap(policy.maxEntries)
    this.#knownGood = new BoundedMap(policy.maxEntries)
  }

  #live(map: BoundedMap<Counter>, key: string, now: number): Counter | undefined {
    const counter = map.get(key)
    if (counter && now - counter.windowStart >= this.policy.windowSeconds * 1000) {
      map.delete(key)
      return undefined
    }
    return counter
  }

  #retryAfter(counter: Counter, now: number): number {
    return Math.max(1, Math.ceil((counter.windowStart + this.policy.windowSeconds * 1000 - now) / 1000))
  }

  /** Decides, before authentication, whether this attempt may proceed. */
  check(clientId: string, address: string): ThrottleVerdict {
    const now = this.clock.now().getTime()
    const byAddress = this.#live(this.#addresses, address, now)
    if (byAddress && byAddress.failures >= this.policy.addressLimit) {
      return { action: 'refuse', retryAfterSeconds: this.#retryAfter(byAddress, now) }
    }
    const byClient = this.#live(this.#clients, clientId, now)
    if (byClient && byClient.failures >= this.policy.clientLimit && !this.#isKnownGood(clientId, address, now)) {
      return { action: 'refuse', retryAfterSeconds: this.#retryAfter(byClient, now) }
    }
    return { action: 'allow', delayMs: this.#delayFor(byAddress, this.policy.addressLimit, byClient, this.policy.clientLimit) }
  }

  #delayFor(a: Counter | undefined, aLimit: number, c: Counter | undefined, cLimit: number): number {
    const over = Math.max((a?.failures ?? 0) - aLimit / 2, (c?.failures ?? 0) - cLimit / 2)
    return over <= 0 ? 0 : Math.min(MAX_DELAY_MS, Math.ceil(over) * DELAY_STEP_MS)
  }

  #isKnownGood(clientId: string, address: string, now: number): boolean {
    const at = this.#knownGood.get(`${clientId} ${address}`)
    return at !== undefined && now - at < 24 * 3600 * 1000
  }

  recordFailure(clientId: string, address: string): void {
    const now = this.clock.now().getTime()
    for (const [map, key] of [[this.#addresses, address], [this.#clients, clientId]] as const) {
      const counter = this.#live(map, key, now) ?? { windowStart: now, failures: 0 }
      counter.failures++
      map.set(key, counter)
    }
  }

  recordSuccess(clientId: string, address: string): void {
    this.#knownGood.set(`${clientId} ${address}`, this.clock.now().getTime())
  }

  /** Entries held, for tests and metrics. */
  get size(): number {
    return this.#addresses.size + this.#clients.size + this.#knownGood.size
  }
}
