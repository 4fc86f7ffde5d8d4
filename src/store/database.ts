import { closeSync, fchmodSync, openSync } from 'node:fs'
import SqliteDatabase from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase as SqliteDialectDatabase } from 'kysely'
import pg from 'pg'
import { parseDatabaseUrl, redactDatabaseUrl, type SqlEngine } from './database-url.js'
import type { Database } from './schema.js'

export interface OpenDatabase {
  readonly db: Kysely<Database>
  readonly engine: SqlEngine
  close(): Promise<void>
}

export class DatabaseUnavailable extends Error {
  override readonly name = 'DatabaseUnavailable'
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
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
    return { db, engine: 'sqlite', close: () => db.destroy() }
  }

  const pool = new pg.Pool({
    connectionString: location.url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return { db, engine: 'postgres', close: () => db.destroy() }
}

export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db)
}
