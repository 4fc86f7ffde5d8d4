/** The change feed of SQLite, where there is no channel between processes. */
export interface DataVersionWatch {
  /**
   * Reads the data version now, unless it was read less than `checkMs` ago, reporting a change
   * first; returns the time (by `now`) as of which every other connection's commit is reported.
   */
  freshAsOf(): number
  stop(): void
}

/**
 * Watches SQLite's `PRAGMA data_version`, which moves whenever another connection (the CLI, another
 * server process on the same file) commits, and calls `onChange` when it has moved. The read is
 * synchronous and costs about two microseconds, so it is made on use (at most every `checkMs`,
 * amortized over the requests between), which makes another process's change count as soon as
 * it is committed, and every `intervalMs` besides, for what is reloaded in the background.
 */
export function watchDataVersion(
  read: () => number,
  onChange: () => void,
  opts: { intervalMs: number; checkMs: number; now: () => number; onError: (err: unknown) => void },
): DataVersionWatch {
  let last = read()
  let checkedAt = opts.now()
  const check = (at: number): void => {
    let version: number
    try {
      version = read()
    } catch (err) {
      opts.onError(err)
      return
    }
    if (version !== last) {
      last = version
      onChange()
    }
    checkedAt = at
  }
  const timer = setInterval(() => check(opts.now()), opts.intervalMs)
  timer.unref()
  return {
    freshAsOf() {
      const at = opts.now()
      if (at - checkedAt >= opts.checkMs) check(at)
      return checkedAt
    },
    stop: () => clearInterval(timer),
  }
}
