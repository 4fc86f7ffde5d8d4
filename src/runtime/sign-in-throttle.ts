import type { Clock } from '../domain/ports.js'
import { BoundedMap, FailureWindows, type Counter } from '../oauth/failure-windows.js'

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

/**
 * Failed sign-ins, counted per address and per email in fixed windows. An attempt counts as a
 * failure from the moment it starts (so parallel guesses see one another) until it succeeds.
 * An email over its limit is refused only from addresses it never signed in from: a stranger
 * guessing someone's password slows the guesses, not the owner at their usual place.
 */
export class SignInThrottle {
  readonly #addresses: FailureWindows
  readonly #emails: FailureWindows
  /** `email address` pairs that signed in successfully, kept like the counters. */
  readonly #familiar: BoundedMap<true>

  constructor(readonly policy: SignInThrottlePolicy, readonly clock: Clock) {
    this.#addresses = new FailureWindows(policy.windowSeconds, policy.maxEntries)
    this.#emails = new FailureWindows(policy.windowSeconds, policy.maxEntries)
    this.#familiar = new BoundedMap(policy.maxEntries)
  }

  /** Decides whether this attempt may check a password at all; if so, counts it. */
  begin(address: string, email: string): SignInVerdict {
    const now = this.clock.now().getTime()
    const emailKey = email.trim().toLowerCase()
    const byAddress = this.#addresses.live(address, now)
    const byEmail = this.#emails.live(emailKey, now)
    const over: Counter[] = []
    if (byAddress && byAddress.failures >= this.policy.addressLimit) over.push(byAddress)
    if (byEmail && byEmail.failures >= this.policy.emailLimit && !this.#familiar.get(`${emailKey} ${address}`)) over.push(byEmail)
    if (over.length > 0) return { action: 'refuse', retryAfterSeconds: Math.max(...over.map((c) => this.#emails.retryAfter(c, now))) }
    const counters = [this.#addresses.count(address, now), this.#emails.count(emailKey, now)]
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

  /** Entries held, for tests and metrics. */
  get size(): number {
    return this.#addresses.size + this.#emails.size + this.#familiar.size
  }
}
