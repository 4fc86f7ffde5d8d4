import type { Clock } from '../domain/ports.js'
import { FailureWindows } from './failure-windows.js'

export interface ThrottlePolicy {
  /** Length of the counting window, and of a refusal, in seconds. */
  readonly windowSeconds: number
  /** Failures from one address within a window before that address is refused. */
  readonly addressLimit: number
  /** Failures for one client_id within a window before further failures for it are refused. */
  readonly clientLimit: number
  /** Most counters kept; the oldest are dropped first, so memory stays bounded under a flood. */
  readonly maxEntries: number
}

/** Before authentication: whether this address may try at all. */
export type AddressVerdict =
  | { readonly action: 'allow' }
  | { readonly action: 'refuse'; readonly retryAfterSeconds: number }

/** After a failure has been counted: how slowly to answer, and whether with 429 instead of 401. */
export type FailureVerdict =
  | { readonly action: 'fail'; readonly delayMs: number }
  | { readonly action: 'refuse'; readonly delayMs: number; readonly retryAfterSeconds: number }

// Failed answers are slowed once half a limit is used: 100 ms per failure past it, at most 2 s.
const DELAY_STEP_MS = 100
const MAX_DELAY_MS = 2000

/**
 * Failed client authentication, counted per remote address and per client_id in fixed windows.
 * An address over its limit is refused before authentication, to bound the load it causes.
 * A client_id over its limit never refuses correct credentials (secrets and keys are not
 * guessable, and a stranger must not be able to lock a client out): only its further failures
 * are answered 429. Every decision about a failure is taken after counting it, so failures
 * that run in parallel see one another.
 */
export class AuthThrottle {
  readonly #addresses: FailureWindows
  readonly #clients: FailureWindows

  constructor(readonly policy: ThrottlePolicy, readonly clock: Clock) {
    this.#addresses = new FailureWindows(policy.windowSeconds, policy.maxEntries)
    this.#clients = new FailureWindows(policy.windowSeconds, policy.maxEntries)
  }

  /** Decides, before authentication, whether this address may try. */
  checkAddress(address: string): AddressVerdict {
    const now = this.clock.now().getTime()
    const byAddress = this.#addresses.live(address, now)
    if (byAddress && byAddress.failures >= this.policy.addressLimit) {
      return { action: 'refuse', retryAfterSeconds: this.#addresses.retryAfter(byAddress, now) }
    }
    return { action: 'allow' }
  }

  /** Counts a failed attempt, then decides how it is answered from the counts including it. */
  recordFailure(clientId: string, address: string): FailureVerdict {
    const now = this.clock.now().getTime()
    const byAddress = this.#addresses.count(address, now)
    const byClient = this.#clients.count(clientId, now)
    const delayMs = Math.max(delayFor(byAddress.failures, this.policy.addressLimit), delayFor(byClient.failures, this.policy.clientLimit))
    const over = [
      ...byAddress.failures > this.policy.addressLimit ? [byAddress] : [],
      ...byClient.failures > this.policy.clientLimit ? [byClient] : [],
    ]
    if (over.length === 0) return { action: 'fail', delayMs }
    return { action: 'refuse', delayMs, retryAfterSeconds: Math.max(...over.map((c) => this.#addresses.retryAfter(c, now))) }
  }

  /** Entries held, for tests and metrics. */
  get size(): number {
    return this.#addresses.size + this.#clients.size
  }
}

function delayFor(failures: number, limit: number): number {
  const past = failures - limit / 2
  return past <= 0 ? 0 : Math.min(MAX_DELAY_MS, Math.ceil(past) * DELAY_STEP_MS)
}
