import { dayOf, quotaWindowOf } from '../domain/client-limits.js'
import type { ClientDayCount, ClientUsageStore, Clock } from '../domain/ports.js'
import type { ClientId, Quota, QuotaPeriod } from '../domain/types.js'
import { DatabaseUnavailable } from '../store/database.js'
import { every } from './background.js'

/** A quota client's count in its current window, as this instance knows it. */
export interface QuotaEntry {
  per: QuotaPeriod
  start: number
  end: number
  /** The stored count of the window when last read: every instance's flushed counts, this one's included. */
  seen: number
  /** This instance's count in the window not in `seen` yet. */
  unflushed: number
  /** This instance's counts per UTC day not yet written. */
  pending: Map<number, number>
  /** Whether going over in this window was reported already (by this instance). */
  reported: boolean
  usedAt: number
  /** Set while the stored count is read for the first time. */
  loading: Promise<void> | undefined
}

const DAY_MS = 86_400_000
/** Day rows are kept a little longer than the longest window (a month). */
const KEEP_DAYS = 40
const PRUNE_EVERY_MS = 3_600_000
/** Clients read back in one query at most. */
const READ_CHUNK = 500

/**
 * Quotas, counted across instances. Each instance counts its own tokens in memory and, with the
 * usage flush, adds them to per-client, per-day rows, then reads back what every instance has
 * stored for the clients it serves. Its estimate of a client's count is that stored count plus
 * its own tokens since. What other instances issued since their last flush, or since this one's
 * last read, it does not see: with N instances, a quota can be overshot by what the others issue
 * in about two flush intervals. A client's first use on an instance (and after a long idle
 * time) reads its stored count before the request goes on.
 */
export class QuotaCounts {
  readonly #entries = new Map<ClientId, QuotaEntry>()
  readonly #store: ClientUsageStore
  readonly #clock: Clock
  readonly #onError: (err: unknown) => void
  readonly #idleMs: number
  #flushing: Promise<void> = Promise.resolve()
  #stopTimer: (() => void) | undefined
  #prunedAt = Number.NEGATIVE_INFINITY

  constructor(deps: { usage: ClientUsageStore; clock: Clock; onError: (err: unknown) => void }, opts: { idleMs: number }) {
    this.#store = deps.usage
    this.#clock = deps.clock
    this.#onError = deps.onError
    this.#idleMs = opts.idleMs
  }

  /** The client's entry in the window holding `nowMs`; a promise while its stored count is first read. */
  entry(clientId: ClientId, quota: Quota, nowMs: number): QuotaEntry | Promise<QuotaEntry> {
    let entry = this.#entries.get(clientId)
    if (entry === undefined) {
      entry = { per: quota.per, start: 0, end: 0, seen: 0, unflushed: 0, pending: new Map(), reported: false, usedAt: nowMs, loading: undefined }
      this.#rewindow(entry, quota.per, nowMs)
      this.#entries.set(clientId, entry)
      entry.loading = this.#load(clientId, entry)
    } else if (entry.per !== quota.per) {
      this.#rewindow(entry, quota.per, nowMs)
      entry.loading ??= this.#load(clientId, entry)
    } else if (nowMs >= entry.end || nowMs < entry.start) {
      // A new window: what other instances counted in it so far arrives with the next read.
      this.#rewindow(entry, quota.per, nowMs)
    }
    entry.usedAt = nowMs
    const loaded = entry
    return entry.loading === undefined ? entry : entry.loading.then(() => loaded)
  }

  /** Counts one token of the entry's client. */
  count(entry: QuotaEntry, nowMs: number): void {
    const day = dayOf(nowMs)
    entry.pending.set(day, (entry.pending.get(day) ?? 0) + 1)
    if (nowMs >= entry.start && nowMs < entry.end) entry.unflushed++
  }

  /** Writes this instance's counts and reads back every instance's; runs one at a time. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce()).catch(this.#onError)
    return this.#flushing
  }

  start(intervalMs: number): void {
    this.#stopTimer = every(intervalMs, () => this.flush(), this.#onError)
  }

  async stop(): Promise<void> {
    this.#stopTimer?.()
    await this.flush()
  }

  get size(): number { return this.#entries.size }

  #rewindow(entry: QuotaEntry, per: QuotaPeriod, nowMs: number): void {
    const window = quotaWindowOf(per, nowMs)
    entry.per = per
    entry.start = window.start
    entry.end = window.end
    entry.seen = 0
    entry.unflushed = 0
    for (const [day, tokens] of entry.pending) if (day >= window.start && day < window.end) entry.unflushed += tokens
    entry.reported = false
  }

  async #load(clientId: ClientId, entry: QuotaEntry): Promise<void> {
    try {
      entry.seen = sumIn(entry, await this.#store.listTokenCounts([clientId], entry.start))
    } catch (err) {
      // Without the database the count starts from this instance's own; the next read corrects it.
      this.#onError(err)
    } finally {
      entry.loading = undefined
    }
  }

  async #flushOnce(): Promise<void> {
    const now = this.#clock.now().getTime()
    const taken: ClientDayCount[] = []
    for (const [clientId, entry] of this.#entries) {
      if (entry.pending.size === 0) continue
      for (const [day, tokens] of entry.pending) taken.push({ clientId, day, tokens })
      entry.pending = new Map()
      // Written by the time anything reads the store again: counted as stored from now on.
      entry.seen += entry.unflushed
      entry.unflushed = 0
    }
    try {
      await this.#store.addTokenCounts(taken)
    } catch (err) {
      if (err instanceof DatabaseUnavailable) this.#giveBack(taken)
      throw err
    }
    for (const [clientId, entry] of this.#entries) {
      if (entry.pending.size === 0 && entry.loading === undefined && now - entry.usedAt > this.#idleMs) this.#entries.delete(clientId)
    }
    await this.#readBack()
    if (now - this.#prunedAt >= PRUNE_EVERY_MS) {
      this.#prunedAt = now
      await this.#store.prune(dayOf(now) - KEEP_DAYS * DAY_MS, new Date(now))
    }
  }

  /** Counts whose write failed go back to being this instance's own, to be written next time. */
  #giveBack(taken: readonly ClientDayCount[]): void {
    for (const { clientId, day, tokens } of taken) {
      const entry = this.#entries.get(clientId)
      if (!entry) continue
      entry.pending.set(day, (entry.pending.get(day) ?? 0) + tokens)
      if (day >= entry.start && day < entry.end) {
        entry.seen -= tokens
        entry.unflushed += tokens
      }
    }
  }

  async #readBack(): Promise<void> {
    const ids = [...this.#entries.keys()]
    for (let i = 0; i < ids.length; i += READ_CHUNK) {
      const chunk = ids.slice(i, i + READ_CHUNK)
      const from = Math.min(...chunk.map((id) => this.#entries.get(id)?.start ?? Number.POSITIVE_INFINITY))
      const byClient = new Map<ClientId, ClientDayCount[]>()
      for (const row of await this.#store.listTokenCounts(chunk, from)) {
        const rows = byClient.get(row.clientId)
        if (rows) rows.push(row)
        else byClient.set(row.clientId, [row])
      }
      for (const id of chunk) {
        const entry = this.#entries.get(id)
        if (entry && entry.loading === undefined) entry.seen = sumIn(entry, byClient.get(id) ?? [])
      }
    }
  }
}

/** The stored tokens (of one client) within the entry's window. */
function sumIn(entry: QuotaEntry, rows: readonly ClientDayCount[]): number {
  let sum = 0
  for (const row of rows) if (row.day >= entry.start && row.day < entry.end) sum += row.tokens
  return sum
}
