import { every } from './background.js'
import type { Clock, RevokedToken, RevokedTokenStore } from '../domain/ports.js'

// Re-read this far behind the newest revocation seen: instances' clocks and commit order differ.
const OVERLAP_MS = 10_000
const PAGE = 1000
const PURGE_EVERY = 300

/**
 * Revoked token ids held in memory, so checking a token never waits on the database.
 * Local revocations count at once; other instances' are picked up by polling the store.
 */
export class RevocationCache {
  readonly #revoked = new Map<string, number>()
  #cursor = 0
  #refreshes = 0
  #stopTimer: (() => void) | undefined
  readonly #deps: { revokedTokens: RevokedTokenStore; clock: Clock; onError: (err: unknown) => void }

  constructor(deps: { revokedTokens: RevokedTokenStore; clock: Clock; onError: (err: unknown) => void }) {
    this.#deps = deps
  }

  has(jti: string): boolean {
    const expiresAt = this.#revoked.get(jti)
    return expiresAt !== undefined && expiresAt > this.#deps.clock.now().getTime()
  }

  /** Revoked tokens held in memory, for metrics. */
  get size(): number {
    return this.#revoked.size
  }

  add(token: RevokedToken): void {
    this.#revoked.set(token.jti, token.expiresAt.getTime())
    this.#cursor = Math.max(this.#cursor, token.revokedAt.getTime())
  }

  /** Catches up with the store and forgets revocations of tokens that have expired. */
  async refresh(): Promise<void> {
    // Now and then, drop rows whose tokens have expired anyway (any instance may; it is idempotent).
    if (++this.#refreshes % PURGE_EVERY === 0) await this.#deps.revokedTokens.purgeExpired(this.#deps.clock.now())
    let since = new Date(Math.max(0, this.#cursor - OVERLAP_MS))
    for (;;) {
      const page = await this.#deps.revokedTokens.listRevokedSince(since, PAGE)
      for (const token of page) this.add(token)
      const last = page.at(-1)
      if (page.length < PAGE || !last) break
      since = last.revokedAt
    }
    const now = this.#deps.clock.now().getTime()
    for (const [jti, expiresAt] of this.#revoked) if (expiresAt <= now) this.#revoked.delete(jti)
  }

  start(intervalMs: number): void {
    this.#stopTimer = every(intervalMs, () => this.refresh(), this.#deps.onError)
  }

  stop(): void {
    this.#stopTimer?.()
  }
}
