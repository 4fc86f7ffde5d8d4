import { DatabaseUnavailable } from '../store/database.js'
import type { Logger } from './logger.js'

export interface DatabaseHealthDeps {
  /** Resolves when the database answers. */
  readonly ping: () => Promise<void>
  readonly log: Pick<Logger, 'warn' | 'info'>
  /** Wall-clock time, for `since`. */
  readonly now: () => Date
  /** How often an unreachable database is tried again. */
  readonly probeMs: number
}

export type DatabaseState =
  | { readonly reachable: true }
  | { readonly reachable: false; readonly since: Date; readonly reason: string }

/**
 * Whether the database is reachable, as last seen by anything that used it. Once something
 * finds it out of reach, requests that need it are answered at once (503) instead of each
 * waiting for a connection, and it is pinged every `probeMs` until it answers again: service
 * resumes by itself. Logs each change once.
 */
export class DatabaseHealth {
  #state: DatabaseState = { reachable: true }
  #probe: NodeJS.Timeout | undefined
  #stopped = false
  readonly #deps: DatabaseHealthDeps

  constructor(deps: DatabaseHealthDeps) {
    this.#deps = deps
  }

  get down(): boolean {
    return !this.#state.reachable
  }

  get state(): DatabaseState {
    return this.#state
  }

  /**
   * Notes `err` if it says the database is out of reach. Other errors are not its business, nor
   * is SQLite refusing one writer while another writes (busy): reads go on meanwhile.
   */
  noteError(err: unknown): void {
    if (!(err instanceof DatabaseUnavailable) || /^SQLITE_(BUSY|LOCKED)/.test(err.code ?? '') || !this.#state.reachable || this.#stopped) return
    this.#state = { reachable: false, since: this.#deps.now(), reason: err.message }
    this.#deps.log.warn({ reason: err.message }, 'database unreachable; answering 503 to what needs it until it is back')
    this.#scheduleProbe()
  }

  noteReachable(): void {
    const state = this.#state
    if (state.reachable) return
    this.#state = { reachable: true }
    if (this.#probe) clearTimeout(this.#probe)
    this.#probe = undefined
    this.#deps.log.info({ unreachableForMs: this.#deps.now().getTime() - state.since.getTime() }, 'database reachable again')
  }

  /** Asks the database now; resolves to whether it answered, noting the outcome. */
  async check(): Promise<boolean> {
    try {
      await this.#deps.ping()
      this.noteReachable()
      return true
    } catch (err) {
      this.noteError(err)
      return false
    }
  }

  stop(): void {
    this.#stopped = true
    if (this.#probe) clearTimeout(this.#probe)
    this.#probe = undefined
  }

  #scheduleProbe(): void {
    if (this.#probe || this.#stopped) return
    this.#probe = setTimeout(() => {
      this.#probe = undefined
      void this.check().then((up) => { if (!up) this.#scheduleProbe() })
    }, this.#deps.probeMs)
    this.#probe.unref()
  }
}
