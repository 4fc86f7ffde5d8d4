import { closeSync, fchmodSync, openSync } from 'node:fs'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase as SqliteDialectDatabase } from 'kysely'
import pg from 'pg'
import { parseDatabaseUrl, redactDatabaseUrl, type SqlEngine } from './database-url.js'
import { ChangeFeed, observeDialect, type CommittedChanges } from './observed-dialect.js'
import type { Database } from './schema.js'
import { unreachableReason } from './unreachable.js'

export interface OpenDatabase {
  readonly db: Kysely<Database>
  readonly engine: SqlEngine
  /** Every committed change to credential rows made through `db`, as it commits. */
  readonly changes: CommittedChanges
  /**
   * SQLite only: `PRAGMA data_version`, which changes whenever another connection (another
   * process, say the CLI) commits to the file. Synchronous and nearly free: for polling.
   */
  readonly dataVersion?: () => number
  close(): Promise<void>
}

/** The database cannot be opened or reached (refused, dropped, shut down, locked for too long). */
export class DatabaseUnavailable extends Error {
  override readonly name = 'DatabaseUnavailable'
  /** The driver's code, when there was one (`ECONNREFUSED`, `57P01`, `SQLITE_BUSY`…). */
  readonly code: string | undefined
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, opts)
    const code = (opts.cause as { code?: unknown } | undefined)?.code
    this.code = typeof code === 'string' ? code : undefined
  }
}

/**
 * How long a lookup on the token path, or a ping, waits for the database: past it, the database
 * counts as unreachable. A network that drops packets without a word would otherwise hold each
 * request until TCP gives up, which takes minutes to hours. Also the pool's connect timeout.
 */
export const DATABASE_ANSWER_MS = 5000

/** What the store's callers see of a driver error that means the database is out of reach. */
function translateUnreachable(err: unknown): unknown {
  if (err instanceof DatabaseUnavailable) return err
  const reason = unreachableReason(err)
  return reason === undefined ? err : new DatabaseUnavailable(`the database cannot serve now (${reason})`, { cause: err })
}

// int8 (bigint) columns hold epoch milliseconds, well inside Number's exact range.
const INT8_OID = 20
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
}

/**
 * better-sqlite3 statements are reusable; Kysely prepares one per query. Keeping the prepared
 * statements of the (few, fixed) query texts saves the SQL compile on every token request.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectDatabase {
  const statements = new Map<string, SqliteDatabase.Statement>()
  return {
    close: () => { statements.clear(); sqlite.close() },
    prepare: (text: string) => {
      let statement = statements.get(text)
      if (!statement) {
        statement = sqlite.prepare(text)
        if (statements.size >= 500) statements.clear()
        statements.set(text, statement)
      }
      return statement
    },
  }
}

/**
 * Creates a missing SQLite file with mode 0600, as the master key file: it holds secret hashes
 * and sealed keys. SQLite gives the -wal and -shm files it makes the mode of the database file.
 */
function createPrivateFile(filename: string): void {
  let fd: number
  try {
    fd = openSync(filename, 'wx', 0o600)
  } catch {
    // It exists already, or cannot be made here: then SQLite says why when it opens it.
    return
  }
  try {
    fchmodSync(fd, 0o600)
  } finally {
    closeSync(fd)
  }
}

/** Opens the database named by a `--db` URL and checks that it answers. */
export async function openDatabase(url: string, opts: { poolSize?: number } = {}): Promise<OpenDatabase> {
  const location = parseDatabaseUrl(url)
  if (location.engine === 'sqlite') {
    let sqlite: SqliteDatabase.Database
    try {
      if (location.filename !== ':memory:') createPrivateFile(location.filename)
      sqlite = new SqliteDatabase(location.filename)
    } catch (err) {
      throw new DatabaseUnavailable(`cannot open SQLite database ${location.filename}: ${(err as Error).message}`, { cause: err })
    }
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('foreign_keys = ON')
    // The CLI and a running server share the file; wait for each other's writes.
    sqlite.pragma('busy_timeout = 5000')
    const changes = new ChangeFeed()
    const dialect = observeDialect(new SqliteDialect({ database: withStatementCache(sqlite) }), { feed: changes, translate: translateUnreachable })
    const db = new Kysely<Database>({ dialect })
    const dataVersion = sqlite.prepare('PRAGMA data_version').pluck()
    return { db, engine: 'sqlite', changes, dataVersion: () => dataVersion.get() as number, close: () => db.destroy() }
  }

  const pool = new pg.Pool({
    connectionString: location.url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: DATABASE_ANSWER_MS,
    // A connection the network dropped without a word is found out, not waited on for ever.
    keepAlive: true,
    types: pgTypes,
  })
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {})
  // A client in use losing its connection (terminated backend, restart) fails its query, which
  // the caller sees; its 'error' event must not become an uncaught exception that stops the server.
  pool.on('connect', (client) => { client.on('error', () => {}) })
  try {
    const probe = await pool.connect()
    probe.release()
  } catch (err) {
    await pool.end().catch(() => {})
    const reason = (err as Error).message || (err as { code?: string }).code || 'unknown error'
    throw new DatabaseUnavailable(
      `cannot connect to PostgreSQL at ${redactDatabaseUrl(location.url)}: ${reason}`,
      { cause: err },
    )
  }
  const changes = new ChangeFeed()
  const db = new Kysely<Database>({ dialect: observeDialect(new PostgresDialect({ pool }), { feed: changes, translate: translateUnreachable }) })
  return { db, engine: 'postgres', changes, close: () => db.destroy() }
}

/**
 * `work`, or DatabaseUnavailable once `ms` have passed without its answer. The query itself is
 * not stopped: its connection stays busy until the database answers or the connection breaks.
 */
export function answeredWithin<T>(work: Promise<T>, what: string, ms = DATABASE_ANSWER_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailable(`the database did not answer ${what} within ${ms} ms`)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await answeredWithin(sql`select 1`.execute(db), 'a ping')
}
