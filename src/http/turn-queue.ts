/**
 * Hands out event-loop turns one at a time, in arrival order, for CPU-heavy steps such as
 * signing a token.
 *
 * libuv accepts at most one new connection per event-loop turn. If one turn signs a token for
 * every request that was readable, a saturated server accepts a new connection (or answers a
 * health check on one) only once per whole batch, and a client that connects during a burst
 * waits seconds for its first token while the connections already open are served again and
 * again. Taking one turn per signature keeps accepting and reading interleaved with signing.
 */
export class TurnQueue {
  private readonly waiting: (() => void)[] = []
  private scheduled = false

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

  /** Number of callers waiting for a turn. */
  get length(): number {
    return this.waiting.length
  }

  private readonly next = (): void => {
    this.waiting.shift()?.()
    // An immediate queued from inside an immediate runs in the next turn, after timers and I/O.
    if (this.waiting.length > 0) setImmediate(this.next)
    else this.scheduled = false
  }
}
