import { auditEvent, type AuditStore } from './audit.js'
import { BatchedWriter } from './background.js'
import type { Clock } from './ports.js'
import type { AccountId } from './types.js'

export interface Refusal {
  readonly clientId: string
  readonly address: string
  readonly reason: string
  readonly accountId: string | null
  /** Which check failed, as a code (never a presented value): written into the event's details. */
  readonly detail?: string
}

// Distinct (client, address, reason, detail) rows held between flushes; beyond it, refusals are folded
// into one row per reason, so a flood of random client ids costs bounded memory and rows.
const MAX_KEYS = 10_000

/**
 * Refused authentications, folded per client, address and reason and written to the audit
 * log in batches: a brute-force flood becomes a few counted rows, not a write per request.
 */
export class RefusalLog {
  readonly #batch: BatchedWriter<string, { refusal: Refusal; count: number; first: Date }>
  readonly #clock: Clock

  constructor(deps: { audit: AuditStore; clock: Clock; onError: (err: unknown) => void }) {
    this.#clock = deps.clock
    this.#batch = new BatchedWriter((batch) => deps.audit.insert([...batch.values()].map(({ refusal, count, first }) => auditEvent({
      accountId: refusal.accountId as AccountId | null,
      actor: `client:${refusal.clientId}`,
      action: 'authentication.refused',
      target: refusal.clientId,
      reason: refusal.reason,
      count,
      details: refusal.detail === undefined ? { address: refusal.address } : { address: refusal.address, detail: refusal.detail },
      createdAt: first,
    }))), deps.onError)
  }

  record(refusal: Refusal): void {
    let key = `${refusal.clientId}\n${refusal.address}\n${refusal.reason}\n${refusal.detail ?? ''}`
    if (!this.#batch.has(key) && this.#batch.size >= MAX_KEYS) {
      key = `*\n*\n${refusal.reason}`
      refusal = { clientId: '*', address: '*', reason: refusal.reason, accountId: null }
    }
    const entry = this.#batch.get(key)
    if (entry) entry.count++
    else this.#batch.set(key, { refusal, count: 1, first: this.#clock.now() })
  }

  start(intervalMs: number): void { this.#batch.start(intervalMs) }
  flush(): Promise<void> { return this.#batch.flush() }
  stop(): Promise<void> { return this.#batch.stop() }
}
