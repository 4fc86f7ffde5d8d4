import type { Clock, KeyPairStore } from './ports.js'
import type { KeyPairId } from './types.js'

/**
 * Remembers when each key pair was last used and how many tokens it got, and writes both in
 * batches, so the token path never waits on a database write. Shows admins when an old pair
 * stopped being used.
 */
export class KeyPairUsageRecorder {
  readonly #pending = new Map<KeyPairId, { lastUsedAt: Date; tokens: number }>()
  readonly #deps: { keyPairs: KeyPairStore; clock: Clock; onError: (err: unknown) => void }
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()

  constructor(deps: { keyPairs: KeyPairStore; clock: Clock; onError: (err: unknown) => void }) {
    this.#deps = deps
  }

  /** Notes a use; O(1), no I/O. */
  touch(id: KeyPairId): void {
    const use = this.#pending.get(id)
    if (use) {
      use.lastUsedAt = this.#deps.clock.now()
      use.tokens++
    } else {
      this.#pending.set(id, { lastUsedAt: this.#deps.clock.now(), tokens: 1 })
    }
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.flush(), intervalMs)
    this.#timer.unref()
  }

  /** Writes what is pending; concurrent calls queue behind one another. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return
      const batch = new Map(this.#pending)
      this.#pending.clear()
      try {
        await this.#deps.keyPairs.recordUsage(batch)
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
