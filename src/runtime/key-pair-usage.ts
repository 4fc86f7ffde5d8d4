import { BatchedWriter } from './background.js'
import { keptAddress, keptUserAgent } from '../domain/last-use.js'
import type { Clock, KeyPairStore, KeyPairUse } from '../domain/ports.js'
import type { KeyPairId } from '../domain/types.js'
import { DatabaseUnavailable } from '../store/database.js'

/** A use as noted on the token path: the caller's strings as sent, cleaned only when written. */
interface NotedUse {
  lastUsedAt: Date
  address: string
  userAgent: string | undefined
  tokens: number
}

/**
 * Remembers when each key pair was last used, from where (address, User-Agent), and how many
 * tokens it got, and writes them in batches, so the token path never waits on a database write.
 * Shows admins when and from where an old pair was last used.
 */
export class KeyPairUsageRecorder {
  readonly #batch: BatchedWriter<KeyPairId, NotedUse>
  readonly #clock: Clock

  constructor(deps: { keyPairs: KeyPairStore; clock: Clock; onError: (err: unknown) => void }) {
    this.#clock = deps.clock
    // Through a database outage the counts add up in memory (one entry per key pair) and are written once it is back.
    this.#batch = new BatchedWriter((batch) => deps.keyPairs.recordUsage(keptUses(batch)), deps.onError, {
      keep: (err) => err instanceof DatabaseUnavailable,
      merge: (kept, since) => ({ ...(since.lastUsedAt >= kept.lastUsedAt ? since : kept), tokens: kept.tokens + since.tokens }),
    })
  }

  /** Notes a use; O(1), no I/O. */
  touch(id: KeyPairId, caller: { readonly address: string; readonly userAgent: string | undefined }): void {
    const use = this.#batch.get(id)
    if (use) {
      use.lastUsedAt = this.#clock.now()
      use.address = caller.address
      use.userAgent = caller.userAgent
      use.tokens++
    } else {
      this.#batch.set(id, { lastUsedAt: this.#clock.now(), address: caller.address, userAgent: caller.userAgent, tokens: 1 })
    }
  }

  start(intervalMs: number): void { this.#batch.start(intervalMs) }
  flush(): Promise<void> { return this.#batch.flush() }
  stop(): Promise<void> { return this.#batch.stop() }
}

/** What is written of each use: the address and User-Agent shortened and printable. */
function keptUses(batch: ReadonlyMap<KeyPairId, NotedUse>): Map<KeyPairId, KeyPairUse> {
  const uses = new Map<KeyPairId, KeyPairUse>()
  for (const [id, use] of batch) {
    uses.set(id, { lastUsedAt: use.lastUsedAt, address: keptAddress(use.address), userAgent: keptUserAgent(use.userAgent), tokens: use.tokens })
  }
  return uses
}
