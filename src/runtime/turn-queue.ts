/**
 * Hands out event-loop turns, in arrival order, for CPU-heavy steps such as signing a token.
 *
 * libuv accepts at most one new connection per event-loop turn. If one turn signs a token for
 * every request that was readable, a saturated server accepts a new connection (or answers a
 * health check on one) only once per whole batch, and a client that connects during a burst
 * waits seconds for its first token while the connections already open are served again and
 * again. So a turn signs at most `batch` tokens, and only one while connections are arriving:
 * small batches keep signing's code and data hot in the CPU caches; single turns let a burst of
 * new connections in quickly.
 */
export class TurnQueue {
  private readonly waiting: (() => void)[] = []
  private scheduled = false
  private connectionArrived = false

  constructor(private readonly batch = 8) {
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError('batch must be a positive integer')
  }

  /**
   * Resolves on the caller's own turn. Whatever the caller does synchronously after the await
   * (and in promise continuations that follow without I/O) runs before the next turn starts.
   */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(this.next)
      }
    })
  }

  /** Call on every accepted connection: the next turn then admits one caller only. */
  noteConnection(): void {
    this.connectionArrived = true
  }

  /** Number of callers waiting for a turn. */
  get length(): number {
    return this.waiting.length
  }

  private readonly next = (): void => {
    const admit = this.connectionArrived ? 1 : this.batch
    this.connectionArrived = false
    for (let i = 0; i < admit && this.waiting.length > 0; i++) this.waiting.shift()?.()
    // An immediate queued from inside an immediate runs in the next turn, after timers and I/O.
    if (this.waiting.length > 0) setImmediate(this.next)
    else this.scheduled = false
  }
}
