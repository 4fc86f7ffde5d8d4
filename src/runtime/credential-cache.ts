import type { ClientCredential, KeyPairId } from '../domain/types.js'
import { TemporarilyUnavailable } from '../oauth/errors.js'
import type { CredentialSubject } from '../store/credential-changes.js'
import { DatabaseUnavailable } from '../store/database.js'

export interface CredentialCacheOptions {
  /** Most key pairs held; the least recently loaded go first. */
  readonly maxEntries: number
  /** How long an entry is used without the change feed vouching for it before it is read again. */
  readonly freshMs: number
  /** How long after it was last known fresh an entry may be used while the database is out of reach; 0: not at all. */
  readonly maxStaleMs: number
  /** Entries loaded longer ago than this are read again in the background, fresh or not. */
  readonly refreshMs: number
  /** How long a request waits for a re-read before using a stale entry it may use. */
  readonly revalidateWaitMs: number
  /** Lookups of client ids not in memory: at most this many at once, this many waiting. */
  readonly missConcurrency: number
  readonly missQueue: number
  /** Lookups that found nothing, per second (and in a burst): past it, misses are shed. */
  readonly unknownPerSecond: number
}

export const CREDENTIAL_CACHE_DEFAULTS: Omit<CredentialCacheOptions, 'maxStaleMs'> = {
  maxEntries: 100_000,
  freshMs: 1000,
  refreshMs: 60_000,
  revalidateWaitMs: 250,
  missConcurrency: 8,
  missQueue: 1000,
  unknownPerSecond: 200,
}

export interface CredentialCacheDeps {
  /** The database read: key pair, client, plan and user in one lookup. */
  readonly load: (id: KeyPairId) => Promise<ClientCredential | undefined>
  /**
   * A time (by `now`) up to which every change made anywhere has been applied to this cache
   * (the change feed's watermark); -Infinity while there is no feed. Asked before every use: it
   * may apply changes (invalidate) before it answers.
   */
  readonly freshAsOf: () => number
  /** Monotonic milliseconds. */
  readonly now: () => number
  readonly health: { readonly down: boolean; noteError(err: unknown): void; noteReachable(): void }
}

interface Entry {
  readonly credential: ClientCredential
  /** When the read that produced it started. */
  readonly loadedAt: number
}

interface Loading {
  readonly generation: number
  readonly promise: Promise<ClientCredential | undefined>
}

const unavailable = (): DatabaseUnavailable => new DatabaseUnavailable('the database is unreachable')

/**
 * Key pairs with their client, plan and user, held in memory so that a known pair is
 * authenticated without database I/O. Changes reach it through `invalidate` (this instance's
 * own commits, at once; other instances' through the change feed), and an entry the feed has
 * not vouched for within `freshMs` is read again, so a change never goes unseen for longer than
 * that. While the database is out of reach, entries known fresh within `maxStaleMs` stay usable.
 *
 * A load that overlaps an invalidation is used for the requests that were already waiting but
 * not kept (every invalidation starts a new generation), so a change is never undone by a read
 * that began before it.
 */
export class CredentialCache {
  readonly #entries = new Map<string, Entry>()
  readonly #loading = new Map<string, Loading>()
  readonly #waiting: (() => void)[] = []
  readonly #opts: CredentialCacheOptions
  readonly #deps: CredentialCacheDeps
  #generation = 0
  #missesInFlight = 0
  #unknownBudget: number
  #budgetAt: number
  /** Counts since start, for metrics. */
  readonly counts = { hit: 0, miss: 0, stale: 0, shed: 0 }

  constructor(opts: CredentialCacheOptions, deps: CredentialCacheDeps) {
    this.#opts = opts
    this.#deps = deps
    this.#unknownBudget = opts.unknownPerSecond
    this.#budgetAt = deps.now()
  }

  get size(): number {
    return this.#entries.size
  }

  /** The credential of a key pair id; undefined when there is none. */
  get(id: KeyPairId): Promise<ClientCredential | undefined> {
    // First: asking the feed may apply changes it has just learnt of (SQLite reads its data version).
    const feedFreshAsOf = this.#deps.freshAsOf()
    const entry = this.#entries.get(id)
    if (entry === undefined) return this.#miss(id)
    const now = this.#deps.now()
    const freshAt = Math.max(entry.loadedAt, feedFreshAsOf)
    if (now - freshAt > this.#opts.freshMs) return this.#revalidate(id, entry, freshAt)
    this.counts.hit++
    if (now - entry.loadedAt > this.#opts.refreshMs && !this.#loading.has(id)) this.#load(id).catch(() => {})
    return Promise.resolve(entry.credential)
  }

  /** Forgets what `subjects` name (`*`: everything); reads in flight are not kept. */
  invalidate(subjects: Iterable<CredentialSubject>): void {
    this.#generation++
    const clients = new Set<string>()
    const users = new Set<string>()
    const accounts = new Set<string>()
    for (const subject of subjects) {
      if (subject === '*') {
        this.#entries.clear()
        return
      }
      const id = subject.slice(2)
      switch (subject[0]) {
        case 'k': this.#entries.delete(id); break
        case 'c': clients.add(id); break
        case 'u': users.add(id); break
        default: accounts.add(id)
      }
    }
    if (clients.size + users.size + accounts.size === 0) return
    for (const [id, { credential: { client, user } }] of this.#entries) {
      if (clients.has(client.id) || accounts.has(client.accountId) || (client.userId !== null && users.has(client.userId)) || (user !== null && users.has(user.id))) {
        this.#entries.delete(id)
      }
    }
  }

  #maybeStale(freshAt: number): boolean {
    return this.#opts.maxStaleMs > 0 && this.#deps.now() - freshAt <= this.#opts.maxStaleMs
  }

  async #revalidate(id: KeyPairId, entry: Entry, freshAt: number): Promise<ClientCredential | undefined> {
    const staleAllowed = this.#maybeStale(freshAt)
    if (this.#deps.health.down) {
      if (!staleAllowed) throw unavailable()
      this.counts.stale++
      return entry.credential
    }
    const loading = this.#load(id)
    if (!staleAllowed) return loading
    // A usable stale entry: wait a little for the re-read, never for a database that hangs.
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<'late'>((resolve) => { timer = setTimeout(resolve, this.#opts.revalidateWaitMs, 'late') })
    try {
      const outcome = await Promise.race([loading.then((credential) => ({ credential }), (err: unknown) => ({ err })), waited])
      if (outcome === 'late') {
        this.counts.stale++
        return entry.credential
      }
      if ('err' in outcome) {
        if (!(outcome.err instanceof DatabaseUnavailable)) throw outcome.err
        this.counts.stale++
        return entry.credential
      }
      return outcome.credential
    } finally {
      clearTimeout(timer)
    }
  }

  #miss(id: KeyPairId): Promise<ClientCredential | undefined> {
    this.counts.miss++
    const joined = this.#loading.get(id)
    if (joined?.generation === this.#generation) return joined.promise
    if (this.#deps.health.down) return Promise.reject(unavailable())
    const turn = this.#admit()
    if (turn === 'shed') {
      this.counts.shed++
      return Promise.reject(new TemporarilyUnavailable('too many lookups of unknown clients; retry shortly', 1, { detail: 'credential lookups shed' }))
    }
    if (turn === 'now') return this.#missRead(id)
    return turn.then(() => {
      // Someone read it while this one waited.
      const read = this.#loading.get(id)
      if (read?.generation !== this.#generation) return this.#missRead(id)
      this.#release()
      return read.promise
    })
  }

  #missRead(id: KeyPairId): Promise<ClientCredential | undefined> {
    return this.#load(id).then((credential) => {
      if (credential === undefined) this.#unknownBudget--
      this.#release()
      return credential
    }, (err: unknown) => {
      this.#release()
      throw err
    })
  }

  /**
   * A turn to look up an id not in memory: now, after others, or none (shed) when too many
   * wait or too many lookups found nothing lately.
   */
  #admit(): 'now' | 'shed' | Promise<void> {
    const now = this.#deps.now()
    const rate = this.#opts.unknownPerSecond
    this.#unknownBudget = Math.min(rate, this.#unknownBudget + ((now - this.#budgetAt) / 1000) * rate)
    this.#budgetAt = now
    if (this.#unknownBudget < 1) return 'shed'
    if (this.#missesInFlight < this.#opts.missConcurrency) {
      this.#missesInFlight++
      return 'now'
    }
    if (this.#waiting.length >= this.#opts.missQueue) return 'shed'
    return new Promise<void>((resolve) => this.#waiting.push(resolve))
  }

  #release(): void {
    const next = this.#waiting.shift()
    if (next) next()
    else this.#missesInFlight--
  }

  /** One read per id and generation at a time; its result is kept only if no invalidation came in between. */
  #load(id: KeyPairId): Promise<ClientCredential | undefined> {
    const generation = this.#generation
    const current = this.#loading.get(id)
    if (current?.generation === generation) return current.promise
    const startedAt = this.#deps.now()
    const promise = this.#deps.load(id).then((credential) => {
      this.#deps.health.noteReachable()
      if (generation === this.#generation) {
        this.#entries.delete(id)
        if (credential !== undefined) {
          this.#entries.set(id, { credential, loadedAt: startedAt })
          if (this.#entries.size > this.#opts.maxEntries) this.#evictOldest()
        }
      }
      return credential
    }, (err: unknown) => {
      this.#deps.health.noteError(err)
      throw err
    }).finally(() => {
      if (this.#loading.get(id)?.promise === promise) this.#loading.delete(id)
    })
    // Callers that stop waiting (a stale entry served instead) must not leave it unhandled.
    promise.catch(() => {})
    this.#loading.set(id, { generation, promise })
    return promise
  }

  #evictOldest(): void {
    const oldest = this.#entries.keys().next()
    if (!oldest.done) this.#entries.delete(oldest.value)
  }
}
