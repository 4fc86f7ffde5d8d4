import { IssuerJwksError, readIssuerJwks } from '../crypto/issuer-jwks.js'
import { fetchableUrlProblem, type FederationSettings } from '../domain/federation-policies.js'
import type { PublicJwk } from '../domain/types.js'

export interface IssuerKeysOptions extends FederationSettings {
  /** How long a fetched key set is used before it is fetched again. */
  readonly ttlMs: number
  /** Fetches of one issuer, for an unknown `kid` or after a failure, at most this often. */
  readonly minRefreshMs: number
  /** How long one HTTP request may take, headers and body. */
  readonly timeoutMs: number
  /** Largest discovery document or key set read. */
  readonly maxBytes: number
  /** Most issuers held; the least recently fetched go first. */
  readonly maxIssuers: number
}

export const ISSUER_KEYS_DEFAULTS: Omit<IssuerKeysOptions, 'allowLoopback'> = {
  ttlMs: 10 * 60_000,
  minRefreshMs: 60_000,
  timeoutMs: 5000,
  maxBytes: 256 * 1024,
  maxIssuers: 1000,
}

/** An issuer's keys could not be had: its discovery document or key set is out of reach or malformed. */
export class IssuerKeysUnavailable extends Error {
  override readonly name = 'IssuerKeysUnavailable'
}

export interface IssuerKeySet {
  readonly keys: readonly PublicJwk[]
}

interface Entry {
  set: IssuerKeySet | undefined
  /** When the set was fetched (ms). */
  fetchedAt: number
  /** When a fetch was last started, successful or not. */
  triedAt: number
  failure: IssuerKeysUnavailable | undefined
  loading: Promise<IssuerKeySet> | undefined
}

const MAX_REDIRECTS = 3

/**
 * External issuers' signing keys, found through OpenID discovery (`/.well-known/openid-configuration`
 * → `jwks_uri`) and held for `ttlMs`. A `kid` the set lacks fetches it again, at most once per
 * `minRefreshMs` per issuer, so a stream of made-up `kid`s costs the issuer one request a
 * minute. Only issuers a trust policy names are ever fetched (the caller sees to it); requests
 * are https (loopback http in development), time out, are size-capped, and follow redirects only
 * within the same origin. A set that cannot be refreshed is used while it lasts, and longer
 * while the issuer is out of reach.
 */
export class IssuerKeys {
  readonly #entries = new Map<string, Entry>()
  readonly #opts: IssuerKeysOptions
  readonly #now: () => number
  /** Counts since start, for tests and metrics. */
  readonly counts = { fetched: 0, failed: 0 }

  constructor(opts: IssuerKeysOptions, deps: { now: () => number }) {
    this.#opts = opts
    this.#now = deps.now
  }

  /** The issuer's keys: held ones while fresh, else fetched (waiting for it). */
  async keys(issuer: string): Promise<IssuerKeySet> {
    const entry = this.#entries.get(issuer)
    if (entry?.set && this.#now() - entry.fetchedAt < this.#opts.ttlMs) return entry.set
    return this.#fetch(issuer, entry)
  }

  /**
   * After a `kid` was not found: the keys fetched again if the last fetch is at least
   * `minRefreshMs` old, else those held (the `kid` stays unknown).
   */
  async keysAfterUnknownKid(issuer: string): Promise<IssuerKeySet> {
    const entry = this.#entries.get(issuer)
    if (entry?.set && this.#now() - entry.triedAt < this.#opts.minRefreshMs) return entry.set
    return this.#fetch(issuer, entry)
  }

  #fetch(issuer: string, existing: Entry | undefined): Promise<IssuerKeySet> {
    const entry = existing ?? this.#add(issuer)
    if (entry.loading) return entry.loading
    const now = this.#now()
    // A failure is not retried for a while: a broken issuer is not asked on every request.
    if (entry.failure && now - entry.triedAt < this.#opts.minRefreshMs) {
      if (entry.set) return Promise.resolve(entry.set)
      return Promise.reject(entry.failure)
    }
    entry.triedAt = now
    const loading = this.#download(issuer).then((set) => {
      this.counts.fetched++
      entry.set = set
      entry.fetchedAt = now
      entry.failure = undefined
      return set
    }, (err: unknown) => {
      this.counts.failed++
      entry.failure = err instanceof IssuerKeysUnavailable ? err : new IssuerKeysUnavailable('fetching the issuer\'s keys failed', { cause: err })
      // Out of reach: the keys it last published still verify what it signed with them.
      if (entry.set) return entry.set
      throw entry.failure
    }).finally(() => {
      entry.loading = undefined
    })
    entry.loading = loading
    return loading
  }

  #add(issuer: string): Entry {
    if (this.#entries.size >= this.#opts.maxIssuers) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    const entry: Entry = { set: undefined, fetchedAt: 0, triedAt: Number.NEGATIVE_INFINITY, failure: undefined, loading: undefined }
    this.#entries.set(issuer, entry)
    return entry
  }

  async #download(issuer: string): Promise<IssuerKeySet> {
    // OpenID Connect Discovery 1.0 §4: the issuer, without a trailing slash, then the well-known path.
    const discovery = await this.#getJson(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)
    if (typeof discovery !== 'object' || discovery === null) throw new IssuerKeysUnavailable('the discovery document is not a JSON object')
    const doc = discovery as { issuer?: unknown; jwks_uri?: unknown }
    // §4.3: the document's issuer must be the one asked for, exactly.
    if (doc.issuer !== issuer) throw new IssuerKeysUnavailable('the discovery document names another issuer')
    if (typeof doc.jwks_uri !== 'string') throw new IssuerKeysUnavailable('the discovery document has no jwks_uri')
    const problem = fetchableUrlProblem(doc.jwks_uri, this.#opts)
    if (problem !== undefined) throw new IssuerKeysUnavailable(`jwks_uri ${problem}`)
    try {
      return readIssuerJwks(await this.#getJson(doc.jwks_uri), { strict: false })
    } catch (err) {
      if (err instanceof IssuerJwksError) throw new IssuerKeysUnavailable(`the issuer's JWKS: ${err.message}`, { cause: err })
      throw err
    }
  }

  async #getJson(start: string): Promise<unknown> {
    let url = new URL(start)
    const signal = AbortSignal.timeout(this.#opts.timeoutMs)
    for (let hop = 0; ; hop++) {
      const res = await fetch(url, { redirect: 'manual', signal, headers: { accept: 'application/json' } })
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel()
        const location = res.headers.get('location')
        const next = location === null ? undefined : new URL(location, url)
        // A redirect elsewhere could point keymint at any host; within the origin it is only a path.
        if (next === undefined || next.origin !== url.origin || hop >= MAX_REDIRECTS) {
          throw new IssuerKeysUnavailable(`${url.origin} redirected ${next === undefined ? 'without a location' : next.origin === url.origin ? 'too often' : 'to another host'}`)
        }
        url = next
        continue
      }
      if (!res.ok) {
        await res.body?.cancel()
        throw new IssuerKeysUnavailable(`${url.origin} answered HTTP ${res.status}`)
      }
      const text = await readCapped(res, this.#opts.maxBytes)
      try {
        return JSON.parse(text) as unknown
      } catch (err) {
        throw new IssuerKeysUnavailable(`${url.origin} answered something other than JSON`, { cause: err })
      }
    }
  }
}

/** The body as text, refused past `maxBytes` without reading the rest. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBytes) {
    await res.body?.cancel()
    throw new IssuerKeysUnavailable(`the answer is larger than ${maxBytes} bytes`)
  }
  if (!res.body) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw new IssuerKeysUnavailable(`the answer is larger than ${maxBytes} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
