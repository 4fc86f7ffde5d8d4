// Fixed-window failure counters, bounded in number: what both throttles (client authentication,
// sign-in) count with.

export interface Counter { windowStart: number; failures: number }

/** Bounded map in insertion order; re-inserting moves a key to the end. */
export class BoundedMap<V> {
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

/** Failures per key in fixed windows; at most `maxEntries` keys, the oldest dropped first. */
export class FailureWindows {
  readonly #counters: BoundedMap<Counter>

  constructor(readonly windowSeconds: number, maxEntries: number) {
    this.#counters = new BoundedMap(maxEntries)
  }

  /** The key's counter in the current window, if it has one. */
  live(key: string, now: number): Counter | undefined {
    const counter = this.#counters.get(key)
    if (counter && now - counter.windowStart >= this.windowSeconds * 1000) {
      this.#counters.delete(key)
      return undefined
    }
    return counter
  }

  /** Counts one failure for the key and returns its counter. */
  count(key: string, now: number): Counter {
    const counter = this.live(key, now) ?? { windowStart: now, failures: 0 }
    counter.failures++
    this.#counters.set(key, counter)
    return counter
  }

  /** Seconds until the counter's window ends: the `Retry-After` of a refusal. */
  retryAfter(counter: Counter, now: number): number {
    return Math.max(1, Math.ceil((counter.windowStart + this.windowSeconds * 1000 - now) / 1000))
  }

  get size(): number {
    return this.#counters.size
  }
}
