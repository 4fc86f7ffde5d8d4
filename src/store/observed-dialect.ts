import type {
  CompiledQuery, DatabaseConnection, DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler, QueryResult, TransactionSettings,
} from 'kysely'
import { credentialChangesOf, type CredentialSubject } from './credential-changes.js'

/** Hears of every committed change to credential rows made through one database handle. */
export interface CommittedChanges {
  /** `listener` runs synchronously after each commit (or write outside a transaction); returns the unsubscribe. */
  subscribe(listener: (subjects: ReadonlySet<CredentialSubject>) => void): () => void
}

export class ChangeFeed implements CommittedChanges {
  readonly #listeners = new Set<(subjects: ReadonlySet<CredentialSubject>) => void>()

  subscribe(listener: (subjects: ReadonlySet<CredentialSubject>) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  publish(subjects: ReadonlySet<CredentialSubject>): void {
    if (subjects.size === 0) return
    for (const listener of this.#listeners) listener(subjects)
  }
}

interface Observers {
  readonly feed: ChangeFeed
  /** Turns a driver error into the one callers should see (an unreachable database, say). */
  readonly translate: (err: unknown) => unknown
}

class ObservedConnection implements DatabaseConnection {
  /** Changes of the open transaction, published once it commits; undefined outside one. */
  pending: Set<CredentialSubject> | undefined

  constructor(readonly inner: DatabaseConnection, private readonly observers: Observers) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.inner.executeQuery<R>(compiledQuery)
      this.#noteWrite(compiledQuery)
      return result
    } catch (err) {
      // A write that failed with the connection may still have been applied: count it anyway.
      this.#noteWrite(compiledQuery)
      throw this.observers.translate(err)
    }
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize)
  }

  #noteWrite(compiledQuery: CompiledQuery): void {
    const kind = compiledQuery.query.kind
    if (kind === 'SelectQueryNode') return
    if (this.pending) credentialChangesOf(compiledQuery.query, this.pending)
    else this.observers.feed.publish(credentialChangesOf(compiledQuery.query))
  }
}

type SavepointCommand = 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint'

class ObservedDriver implements Driver {
  constructor(private readonly inner: Driver, private readonly observers: Observers) {}

  #savepoint(command: SavepointCommand, connection: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]): Promise<void> {
    const run = this.inner[command]
    if (!run) throw new Error(`the driver does not support ${command}`)
    return this.#guard(run.call(this.inner, this.#inner(connection), name, compile))
  }

  savepoint: NonNullable<Driver['savepoint']> = (c, name, compile) => this.#savepoint('savepoint', c, name, compile)
  rollbackToSavepoint: NonNullable<Driver['rollbackToSavepoint']> = (c, name, compile) => this.#savepoint('rollbackToSavepoint', c, name, compile)
  releaseSavepoint: NonNullable<Driver['releaseSavepoint']> = (c, name, compile) => this.#savepoint('releaseSavepoint', c, name, compile)

  async #guard<T>(promise: Promise<T>): Promise<T> {
    try {
      return await promise
    } catch (err) {
      throw this.observers.translate(err)
    }
  }

  #inner(connection: DatabaseConnection): DatabaseConnection {
    return (connection as ObservedConnection).inner
  }

  init(): Promise<void> { return this.#guard(this.inner.init()) }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new ObservedConnection(await this.#guard(this.inner.acquireConnection()), this.observers)
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.#guard(this.inner.beginTransaction(this.#inner(connection), settings))
    ;(connection as ObservedConnection).pending = new Set()
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const observed = connection as ObservedConnection
    const pending = observed.pending
    observed.pending = undefined
    try {
      await this.#guard(this.inner.commitTransaction(observed.inner))
    } finally {
      // After the commit, or after a commit whose outcome is unknown: listeners reload what it may have changed.
      if (pending) this.observers.feed.publish(pending)
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    ;(connection as ObservedConnection).pending = undefined
    await this.#guard(this.inner.rollbackTransaction(this.#inner(connection)))
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(this.#inner(connection))
  }

  destroy(): Promise<void> { return this.inner.destroy() }
}

/**
 * Wraps a dialect so that every committed write to credential rows is published to `feed`
 * (synchronously, before the write's caller resumes: an instance's own changes count at once),
 * and driver errors pass through `translate`.
 */
export function observeDialect(inner: Dialect, observers: Observers): Dialect {
  return {
    createDriver: () => new ObservedDriver(inner.createDriver(), observers),
    createQueryCompiler: (): QueryCompiler => inner.createQueryCompiler(),
    createAdapter: (): DialectAdapter => inner.createAdapter(),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's own signature
    createIntrospector: (db: Kysely<any>): DatabaseIntrospector => inner.createIntrospector(db),
  }
}
