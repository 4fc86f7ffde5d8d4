import type { KeyObject } from 'node:crypto'
import { createCompactSigner, type CompactSigner, type SigningAlg } from '../crypto/jws.js'
import { every } from './background.js'
import type { Clock, ServerKeyRecord, Store } from '../domain/ports.js'
import { ensureSigningKeyFor, openPrivateKey, publicJwk, publicKeyOf, serverKeyStates, type Sealer, type ServerKeyState } from '../domain/server-keys.js'
import { MAX_LIFETIME_SECONDS } from '../domain/validation.js'

/** The keys' states, good from `from` until (not including) `until`, when one of them changes state. */
interface States { readonly version: number; readonly from: number; readonly until: number; readonly states: Map<string, ServerKeyState> }

/** The next time after `t` at which any key changes state: activates, retires, or stops being published. */
function nextTransition(records: readonly ServerKeyRecord[], t: number): number {
  let next = Number.POSITIVE_INFINITY
  for (const r of records) {
    for (const at of [r.activatesAt.getTime(), r.retiredAt?.getTime(), r.retiredAt && r.retiredAt.getTime() + MAX_LIFETIME_SECONDS * 1000]) {
      if (at !== undefined && at !== null && at > t && at < next) next = at
    }
  }
  return next
}

export interface KeyRingDeps {
  readonly store: Store
  readonly clock: Clock
  readonly sealer: Sealer
  readonly onError: (err: unknown) => void
}

/**
 * The server keys one instance works with, reloaded from the store on an interval so a
 * rotation or retirement made anywhere (CLI, another instance) takes effect everywhere.
 * Which key signs is decided per token from the keys' activation times.
 */
export class KeyRing {
  #records: readonly ServerKeyRecord[] = []
  #version = 0
  readonly #signers = new Map<string, CompactSigner>()
  readonly #privateKeys = new Map<string, KeyObject>()
  readonly #publicKeys = new Map<string, KeyObject>()
  readonly #deps: KeyRingDeps
  #stopTimer: (() => void) | undefined
  readonly #ensuring = new Map<SigningAlg, Promise<void>>()
  #cachedStates: States | undefined

  constructor(deps: KeyRingDeps, records: readonly ServerKeyRecord[]) {
    this.#deps = deps
    this.#load(records)
  }

  #load(records: readonly ServerKeyRecord[]): void {
    const same = records.length === this.#records.length &&
      records.every((r, i) => r.kid === this.#records[i]?.kid && r.retiredAt?.getTime() === this.#records[i]?.retiredAt?.getTime())
    if (same) return
    this.#records = records
    this.#version++
  }

  async refresh(): Promise<void> {
    this.#load(await this.#deps.store.serverKeys.listAll())
  }

  start(intervalMs: number): void {
    this.#stopTimer = every(intervalMs, () => this.refresh(), this.#deps.onError)
  }

  stop(): void {
    this.#stopTimer?.()
  }

  /** Changes whenever the set of keys does; lets users of the ring cache derived values. */
  get version(): number {
    return this.#version
  }

  /** Worked out again only when the keys change or one of them reaches a transition: not per token. */
  #states(): Map<string, ServerKeyState> {
    const now = this.#deps.clock.now()
    const t = now.getTime()
    const cached = this.#cachedStates
    if (cached !== undefined && cached.version === this.#version && t >= cached.from && t < cached.until) return cached.states
    const states = serverKeyStates(this.#records, now)
    this.#cachedStates = { version: this.#version, from: t, until: nextTransition(this.#records, t), states }
    return states
  }

  #current(use: 'sig' | 'enc', alg?: SigningAlg): ServerKeyRecord | undefined {
    const states = this.#states()
    return this.#records.find((k) => k.use === use && (alg === undefined || k.alg === alg) && states.get(k.kid) === 'active')
  }

  /**
   * The signer for `alg`, creating the algorithm's first key when no instance has one yet
   * (a client asked for an algorithm nobody used before). Concurrent callers share the work.
   */
  async signerFor(alg: SigningAlg): Promise<CompactSigner> {
    if (!this.canSign(alg)) {
      let ensuring = this.#ensuring.get(alg)
      if (!ensuring) {
        ensuring = (async () => {
          await this.refresh()
          if (!this.canSign(alg)) {
            await ensureSigningKeyFor(this.#deps, alg)
            await this.refresh()
          }
        })().finally(() => this.#ensuring.delete(alg))
        this.#ensuring.set(alg, ensuring)
      }
      await ensuring
    }
    return this.accessTokenSigner(alg)
  }

  /** Whether a key of `alg` can sign right now. */
  canSign(alg: SigningAlg): boolean {
    return this.#current('sig', alg) !== undefined
  }

  #privateKey(record: ServerKeyRecord): KeyObject {
    let key = this.#privateKeys.get(record.kid)
    if (!key) {
      key = openPrivateKey(record, this.#deps.sealer)
      this.#privateKeys.set(record.kid, key)
    }
    return key
  }

  /** The signer of the key of `alg` active now (RFC 9068 §2.1: `typ: at+jwt`). */
  accessTokenSigner(alg: SigningAlg): CompactSigner {
    const record = this.#current('sig', alg)
    if (!record) throw new Error(`no active ${alg} signing key`)
    let signer = this.#signers.get(record.kid)
    if (!signer) {
      signer = createCompactSigner({ kid: record.kid, alg: record.alg as SigningAlg, privateKey: this.#privateKey(record) }, 'at+jwt')
      this.#signers.set(record.kid, signer)
    }
    return signer
  }

  /** The key new encrypted tokens are encrypted to. */
  encryptionKey(): { kid: string; publicKey: KeyObject } {
    const record = this.#current('enc')
    if (!record) throw new Error('no active encryption key')
    let publicKey = this.#publicKeys.get(record.kid)
    if (!publicKey) {
      publicKey = publicKeyOf(this.#privateKey(record))
      this.#publicKeys.set(record.kid, publicKey)
    }
    return { kid: record.kid, publicKey }
  }

  /** Keys the JWKS publishes: everything not yet unpublished. */
  published(): ServerKeyRecord[] {
    const states = this.#states()
    return this.#records.filter((k) => states.get(k.kid) !== 'unpublished')
  }

  /** What verifying a token this server issued needs: public signing keys, private decryption keys. */
  verifierKeys(): { jwks: { keys: Record<string, string>[] }; decryptionKeys: Map<string, KeyObject> } {
    const published = this.published()
    return {
      jwks: { keys: published.filter((k) => k.use === 'sig').map(publicJwk) },
      decryptionKeys: new Map(published.filter((k) => k.use === 'enc').map((k) => [k.kid, this.#privateKey(k)])),
    }
  }
}
