/** Runs `task` every `intervalMs` without keeping the process alive; failures go to `onError`. */
export function every(intervalMs: number, task: () => Promise<unknown>, onError: (err: unknown) => void): () => void {
  const timer = setInterval(() => {
    task().catch(onError)
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

/** What a batched writer does with a batch whose write failed: by default, drop it. */
export interface FailedBatchPolicy<V> {
  /** Whether the failure is passing (the database out of reach), so the batch is kept for the next flush. */
  readonly keep: (err: unknown) => boolean
  /** Folds an entry of the kept batch into one noted since. */
  readonly merge: (kept: V, since: V) => V
}

/**
 * Collects entries in memory and writes them in one batch per interval (and on stop), so hot
 * paths never wait on a database write. Flushes run one after another; a failed write is
 * reported and its batch dropped rather than retried forever, unless a policy keeps it (the
 * keys are bounded: at most one entry per key).
 */
export class BatchedWriter<K, V> {
  readonly #pending = new Map<K, V>()
  readonly #write: (batch: ReadonlyMap<K, V>) => Promise<void>
  readonly #onError: (err: unknown) => void
  readonly #failed: FailedBatchPolicy<V> | undefined
  #flushing: Promise<void> = Promise.resolve()
  #stopTimer: (() => void) | undefined

  constructor(write: (batch: ReadonlyMap<K, V>) => Promise<void>, onError: (err: unknown) => void, failed?: FailedBatchPolicy<V>) {
    this.#write = write
    this.#onError = onError
    this.#failed = failed
  }

  get(key: K): V | undefined { return this.#pending.get(key) }
  has(key: K): boolean { return this.#pending.has(key) }
  set(key: K, value: V): void { this.#pending.set(key, value) }
  get size(): number { return this.#pending.size }

  start(intervalMs: number): void {
    this.#stopTimer = every(intervalMs, () => this.flush(), this.#onError)
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.size === 0) return
      const batch = new Map(this.#pending)
      this.#pending.clear()
      try {
        await this.#write(batch)
      } catch (err) {
        this.#onError(err)
        if (this.#failed?.keep(err)) {
          for (const [key, kept] of batch) {
            const since = this.#pending.get(key)
            this.#pending.set(key, since === undefined ? kept : this.#failed.merge(kept, since))
          }
        }
      }
    })
    return this.#flushing
  }

  async stop(): Promise<void> {
    this.#stopTimer?.()
    await this.flush()
  }
}

/**
 * Wraps a reload so bursts of calls cost at most one run in progress and one queued after it:
 * a call during a run still sees everything changed before it.
 */
export function coalesced(task: () => Promise<void>, onError: (err: unknown) => void): () => void {
  let running = false
  let again = false
  const run = (): void => {
    running = true
    again = false
    task().catch(onError).finally(() => {
      running = false
      if (again) run()
    })
  }
  return () => {
    if (running) again = true
    else run()
  }
}
