/** The change feed of SQLite, where there is no channel between processes. */
export interface DataVersionWatch {
  /** A time (by `now`) up to which every other connection's commit has been reported. */
  freshAsOf(): number
  stop(): void
}

/**
 * Polls SQLite's `PRAGMA data_version`, which moves whenever another connection (the CLI, another
 * server process on the same file) commits, and calls `onChange` when it has moved. The read is
 * synchronous and costs microseconds, so a poll every `intervalMs` keeps what other processes
 * change at most that far behind.
 */
export function watchDataVersion(
  read: () => number,
  onChange: () => void,
  opts: { intervalMs: number; now: () => number; onError: (err: unknown) => void },
): DataVersionWatch {
  let last = read()
  let freshAsOf = opts.now()
  const timer = setInterval(() => {
    const at = opts.now()
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
    freshAsOf = at
  }, opts.intervalMs)
  timer.unref()
  return {
    freshAsOf: () => freshAsOf,
    stop: () => clearInterval(timer),
  }
}
