import type { Clock } from '../domain/ports.js'
import { BoundedMap } from '../oauth/auth-throttle.js'

export interface SignInThrottlePolicy {
  /** Length of the counting window, and of a refusal, in seconds. */
  readonly windowSeconds: number
  /** Failed sign-ins from one address within a window before that address is refused. */
  readonly addressLimit: number
  /** Failed sign-ins for one email within a window before it is refused from unfamiliar addresses. */
  readonly emailLimit: number
  /** Most counters kept; the oldest are dropped first, so memory stays bounded under a flood. */
  readonly maxEntries: number
}

export type SignInVerdict =
  | { readonly action: 'allow'; readonly attempt: SignInAttempt }
  | { readonly action: 'refuse'; readonly retryAfterSeconds: number }

/** An attempt let through: counted as a failure until it is known to have succeeded. */
export interface SignInAttempt {
  /** Uncounts it, and remembers the address as one this email signs in from. */
  succeeded(): void
  /** Uncounts it without vouching for the address (a right password still waiting for its second factor). */
  uncount(): void
}

interface Counter { windowStart: number; failures: number }

/**
 * Failed sign-ins, counted per address and per email in fixed windows. An attempt counts as a
 * failure from the moment it starts (so parallel guesses see one another) until it succeeds.
 * An email over its limit is refused only from addresses it never signed in from: a stranger
 * guessing someone's password slows the guesses, not the owner at their usual place.
 */
export class SignInThrottle {
  readonly #addresses: BoundedMap<Counter>
  readonly #emails: BoundedMap<Counter>
  /** `email address` pairs that signed in successfully, kept like the counters. */
  readonly #familiar: BoundedMap<true>

  constructor(readonly policy: SignInThrottlePolicy, readonly clock: Clock) {
    this.#addresses = new BoundedMap(policy.maxEntries)
    this.#emails = new BoundedMap(policy.maxEntries)
    this.#familiar = new BoundedMap(policy.maxEntries)
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

  /** Decides whether this attempt may check a password at all; if so, counts it. */
  begin(address: string, email: string): SignInVerdict {
    const now = this.clock.now().getTime()
    const emailKey = email.trim().toLowerCase()
    const byAddress = this.#live(this.#addresses, address, now)
    const byEmail = this.#live(this.#emails, emailKey, now)
    const over: Counter[] = []
    if (byAddress && byAddress.failures >= this.policy.addressLimit) over.push(byAddress)
    if (byEmail && byEmail.failures >= this.policy.emailLimit && !this.#familiar.get(`${emailKey} ${address}`)) over.push(byEmail)
    if (over.length > 0) return { action: 'refuse', retryAfterSeconds: Math.max(...over.map((c) => this.#retryAfter(c, now))) }
    const counters = [this.#count(this.#addresses, address, byAddress, now), this.#count(this.#emails, emailKey, byEmail, now)]
    let counted = true
    const uncount = () => {
      if (!counted) return
      counted = false
      for (const counter of counters) counter.failures = Math.max(0, counter.failures - 1)
    }
    return {
      action: 'allow',
      attempt: {
        succeeded: () => {
          uncount()
          this.#familiar.set(`${emailKey} ${address}`, true)
        },
        uncount,
      },
    }
  }

  #count(map: BoundedMap<Counter>, key: string, live: Counter | undefined, now: number): Counter {
    const counter = live ?? { windowStart: now, failures: 0 }
    counter.failures++
    map.set(key, counter)
    return counter
  }

  /** Entries held, for tests and metrics. */
  get size(): number {
    return this.#addresses.size + this.#emails.size + this.#familiar.size
  }
}
