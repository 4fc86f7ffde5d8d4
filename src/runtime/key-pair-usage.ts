import { BatchedWriter } from './background.js'
import type { Clock, KeyPairStore } from '../domain/ports.js'
import type { KeyPairId } from '../domain/types.js'
import { DatabaseUnavailable } from '../store/database.js'

/**
 * Remembers when each key pair was last used and how many tokens it got, and writes both in
 * batches, so the token path never waits on a database write. Shows admins when an old pair
 * stopped being used.
 */
export class KeyPairUsageRecorder {
  readonly #batch: BatchedWriter<KeyPairId, { lastUsedAt: Date; tokens: number }>
  readonly #clock: Clock

  constructor(deps: { keyPairs: KeyPairStore; clock: Clock; onError: (err: unknown) => void }) {
    this.#clock = deps.clock
    // Through a database outage the counts add up in memory (one entry per key pair) and are written once it is back.
    this.#batch = new BatchedWriter((batch) => deps.keyPairs.recordUsage(batch), deps.onError, {
      keep: (err) => err instanceof DatabaseUnavailable,
      merge: (kept, since) => ({ lastUsedAt: since.lastUsedAt > kept.lastUsedAt ? since.lastUsedAt : kept.lastUsedAt, tokens: kept.tokens + since.tokens }),
    })
  }

  /** Notes a use; O(1), no I/O. */
  touch(id: KeyPairId): void {
    const use = this.#batch.get(id)
    if (use) {
      use.lastUsedAt = this.#clock.now()
      use.tokens++
    } else {
      this.#batch.set(id, { lastUsedAt: this.#clock.now(), tokens: 1 })
    }
  }

  start(intervalMs: number): void { this.#batch.start(intervalMs) }
  flush(): Promise<void> { return this.#batch.flush() }
  stop(): Promise<void> { return this.#batch.stop() }
}
