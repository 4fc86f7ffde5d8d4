import { sendExpiryReminders, type ExpirySweep, type ReminderHorizon } from '../domain/expiry-reminders.js'
import type { Clock, Store } from '../domain/ports.js'
import { every } from './background.js'

export interface ExpiryReminderDeps {
  readonly store: Store
  readonly clock: Clock
  readonly onError: (err: unknown) => void
}

/**
 * Looks for key pairs to remind of their expiry on a timer, on every instance: the notice each
 * reminder records in the database lets only one instance send it. Keeps the latest counts of
 * pairs expiring within each horizon for the `keymint_key_pairs_expiring` gauge.
 */
export class ExpiryReminders {
  readonly #deps: ExpiryReminderDeps
  #running: Promise<ExpirySweep | undefined> = Promise.resolve(undefined)
  #stopTimer: (() => void) | undefined
  #expiring: Readonly<Record<ReminderHorizon, number>> | undefined

  constructor(deps: ExpiryReminderDeps) {
    this.#deps = deps
  }

  /** Pairs expiring within each horizon as of the last sweep; undefined before the first. */
  get expiring(): Readonly<Record<ReminderHorizon, number>> | undefined {
    return this.#expiring
  }

  start(intervalMs: number): void {
    this.#stopTimer = every(intervalMs, () => this.sweep(), this.#deps.onError)
    this.sweep().catch(this.#deps.onError)
  }

  async stop(): Promise<void> {
    this.#stopTimer?.()
    await this.#running.catch(() => undefined)
  }

  /** One sweep, after any sweep in progress. */
  sweep(): Promise<ExpirySweep | undefined> {
    this.#running = this.#running.catch(() => undefined).then(async () => {
      const swept = await sendExpiryReminders(this.#deps)
      this.#expiring = swept.expiring
      return swept
    })
    return this.#running
  }
}
