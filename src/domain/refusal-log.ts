import { auditEvent, type AuditStore } from './audit.js'
import type { Clock } from './ports.js'
import type { AccountId } from './types.js'

export interface Refusal {
  readonly clientId: string
  readonly address: string
  readonly reason: string
  readonly accountId: string | null
}

// Distinct (client, address, reason) rows held between flushes; beyond it, refusals are folded
// into one row per reason, so a flood of random client ids costs bounded memory and rows.
const MAX_KEYS = 10_000

/**
 * Refused authentications, folded per client, address and reason and written to the audit
 * log in batches: a brute-force flood becomes a few counted rows, not a write per request.
 */
export class RefusalLog {
  readonly #pending = new Map<string, { refusal: Refusal; count: number; first: Date }>()
  readonly #deps: { audit: AuditStore; clock: Clock; onError: (err: unknown) => void }
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()

  constructor(deps: { audit: AuditStore; clock: Clock; onError: (err: unknown) => void }) {
    this.#deps = deps
  }

  record(refusal: Refusal): void {
    let key = `${refusal.clientId}\n${refusal.address}\n${refusal.reason}`
    if (!this.#pending.has(key) && this.#pending.size >= MAX_KEYS) {
      key = `*\n*\n${refusal.reason}`
      refusal = { clientId: '*', address: '*', reason: refusal.reason, accountId: null }
    }
    const entry = this.#pending.get(key)
    if (entry) entry.count++
    else this.#pending.set(key, { refusal, count: 1, first: this.#deps.clock.now() })
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.flush(), intervalMs)
    this.#timer.unref()
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return
      const batch = [...this.#pending.values()]
      this.#pending.clear()
      try {
        await this.#deps.audit.insert(batch.map(({ refusal, count, first }) => auditEvent({
          accountId: refusal.accountId as AccountId | null,
          actor: `client:${refusal.clientId}`,
          action: 'authentication.refused',
          target: refusal.clientId,
          reason: refusal.reason,
          count,
          details: { address: refusal.address },
          createdAt: first,
        })))
      } catch (err) {
        this.#deps.onError(err)
      }
    })
    return this.#flushing
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await this.flush()
  }
}
