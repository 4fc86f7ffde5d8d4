import { createHash, randomBytes } from 'node:crypto'
import { constants, copyFileSync, existsSync, readdirSync, readFileSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, type TestContext } from 'node:test'
import pg from 'pg'
import { openDatabase } from '../../src/store/database.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import { cleanup } from './cleanup.js'

// One list of engines; every store and HTTP test body runs once per entry (STYLE §9).
export type Dialect = 'sqlite' | 'postgres'

const PG_URL = process.env.KEYMINT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const ONLY = process.env.KEYMINT_TEST_DIALECTS?.split(',').map((d) => d.trim())
export const DIALECTS: readonly Dialect[] = (['sqlite', 'postgres'] as const).filter((d) => !ONLY || ONLY.includes(d))
const IN_CI = process.env.CI === 'true'

/** Resolves to undefined when PostgreSQL answers, else to the reason it does not. */
async function probePostgres(): Promise<string | undefined> {
  // Generous: on a loaded machine a first connection can take seconds, and one failed probe
  // fails every PostgreSQL suite of the file under CI=true.
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 15_000 })
  try {
    await client.connect()
    await client.query('select 1')
    return undefined
  } catch (err) {
    return (err as Error).message || String(err)
  } finally {
    await client.end().catch(() => {})
  }
}

export interface TestDatabase {
  readonly dialect: Dialect
  readonly url: string
}

/** Statements one after another on one connection to the administrative database. */
async function adminQuery(...texts: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 15_000 })
  await admin.connect()
  try {
    for (const text of texts) await admin.query(text)
  } finally {
    await admin.end()
  }
}

const databaseUrl = (name: string): string => {
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  return url.toString()
}

let template: Promise<string> | undefined

/** This build's migrations, by a hash of their compiled code: names the migrated templates. */
const MIGRATIONS_HASH = (() => {
  const dir = new URL('../../src/store/', import.meta.url)
  const hash = createHash('sha256').update(readFileSync(new URL('migrate.js', dir)))
  for (const file of readdirSync(new URL('migrations/', dir)).filter((f) => f.endsWith('.js')).sort()) {
    hash.update(file).update(readFileSync(new URL(`migrations/${file}`, dir)))
  }
  return hash.digest('hex').slice(0, 16)
})()

let sqliteTemplate: Promise<string> | undefined

/**
 * A SQLite file migrated to this build's schema, to copy: migrating a new file took a test server
 * a third of its start. Made once per build like the PostgreSQL template, in the system's temp
 * directory, and renamed into place only once complete and closed (no -wal file beside it).
 */
function migratedSqliteTemplate(): Promise<string> {
  sqliteTemplate ??= (async () => {
    const file = join(tmpdir(), `keymint-test-template-${MIGRATIONS_HASH}.db`)
    if (existsSync(file)) return file
    const building = `${file}.${randomBytes(4).toString('hex')}`
    const database = await openDatabase(`sqlite:${building}`, { poolSize: 1 })
    try {
      await migrateToLatest(database)
    } finally {
      await database.close()
    }
    renameSync(building, file)
    return file
  })()
  return sqliteTemplate
}

/**
 * A PostgreSQL database migrated to this build's schema, for `create database … template`:
 * named by a hash of the compiled migrations, made once by whichever test process (or checkout)
 * gets there first, and renamed to that name only once complete.
 */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const name = `keymint_template_${MIGRATIONS_HASH}`
    const building = `${name}_${randomBytes(4).toString('hex')}`
    const admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    try {
      const exists = async () => (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1
      if (await exists()) return name
      await admin.query(`create database ${building}`)
      try {
        const database = await openDatabase(databaseUrl(building), { poolSize: 1 })
        try {
          await migrateToLatest(database)
        } finally {
          await database.close()
        }
        await admin.query(`alter database ${building} rename to ${name}`)
      } catch (err) {
        await admin.query(`drop database if exists ${building} with (force)`)
        // Another process finished the same template first.
        if (await exists()) return name
        throw err
      }
      return name
    } finally {
      await admin.end()
    }
  })()
  return template
}

/**
 * Commits to a test database do not wait for their WAL to reach the disk: nothing in it has to
 * outlive a crash of PostgreSQL, and a sync at every commit cost the machine ~10 % more CPU in
 * PostgreSQL-heavy test files. What a commit makes visible, and when, is the same.
 */
const unsynced = (name: string): string => `alter database ${name} set synchronous_commit = off`

/**
 * A database of the test's own: a temp SQLite file, or a PostgreSQL database of its own for the
 * test's length. `migrated`: a copy of a migrated template instead of empty (without it, a SQLite
 * file is made by the first open).
 */
export async function createTestDatabase(t: TestContext, dialect: Dialect, dir: string, opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const file = `${dir}/keymint-${randomBytes(4).toString('hex')}.db`
    // The copy keeps the template's owner-only mode, as keymint makes its database files.
    if (opts.migrated) copyFileSync(await migratedSqliteTemplate(), file, constants.COPYFILE_EXCL)
    return { dialect, url: `sqlite:${file}` }
  }
  if (opts.migrated) {
    const name = await emptied.take()
    cleanup(t, () => emptied.give(name))
    return { dialect, url: databaseUrl(name) }
  }
  const name = `keymint_test_${randomBytes(6).toString('hex')}`
  await adminQuery(`create database ${name}`, unsynced(name))
  cleanup(t, () => dropLater(name))
  return { dialect, url: databaseUrl(name) }
}

/**
 * Migrated PostgreSQL databases of this process, emptied after each test for the next one:
 * making a database from the template and dropping it cost PostgreSQL ~0.17 s of CPU, emptying
 * its tables ~0.02 s. Before a database is given out again, every other connection still open
 * to it is ended and its schema is checked against the template's (a test that changed the
 * schema gets its database dropped instead). The connection that empties a database stays open
 * with it for the next time: a new PostgreSQL connection costs some 20 ms of CPU. One left unused
 * for a second is dropped: the tests of a process run back to back, and after the last one the
 * process can end with nothing left behind.
 */
class EmptiedDatabases {
  readonly #free: { name: string; unused: NodeJS.Timeout }[] = []
  /** The connection that empties each database, kept while the database is. */
  readonly #emptiers = new Map<string, pg.Client>()
  /** The template's tables, children before the tables their foreign keys name, and its shape. */
  #template: Promise<{ tables: string[]; shape: string }> | undefined

  async take(): Promise<string> {
    const free = this.#free.pop()
    if (free !== undefined) {
      clearTimeout(free.unused)
      return free.name
    }
    const name = `keymint_test_${randomBytes(6).toString('hex')}`
    await adminQuery(`create database ${name} template ${await migratedTemplate()}`, unsynced(name))
    this.#template ??= this.#read(name)
    await this.#template
    return name
  }

  async give(name: string): Promise<void> {
    const template = await this.#template
    let reusable = false
    try {
      const client = await this.#emptier(name)
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')
      if (template !== undefined && await shapeOf(client) === template.shape) {
        await client.query(`begin; ${template.tables.map((table) => `delete from "${table}"`).join('; ')}; commit`)
        reusable = true
      }
    } catch {
      // Not reusable: dropped below, as any other test database.
    }
    if (!reusable) {
      await this.#forget(name)
      dropLater(name)
      return
    }
    const entry = {
      name,
      unused: setTimeout(() => {
        this.#free.splice(this.#free.indexOf(entry), 1)
        void this.#forget(name).then(() => dropLater(name))
      }, 1000),
    }
    this.#free.push(entry)
  }

  /** The database's emptying connection: the one kept from last time, unless a test ended it. */
  async #emptier(name: string): Promise<pg.Client> {
    const kept = this.#emptiers.get(name)
    if (kept) {
      try {
        await kept.query('select 1')
        return kept
      } catch {
        await this.#forget(name)
      }
    }
    const client = new pg.Client({ connectionString: databaseUrl(name), connectionTimeoutMillis: 15_000 })
    // A test that ends every connection to its database ends this one too: found out above.
    client.on('error', () => {})
    this.#emptiers.set(name, client)
    await client.connect()
    return client
  }

  async #forget(name: string): Promise<void> {
    const client = this.#emptiers.get(name)
    this.#emptiers.delete(name)
    await client?.end().catch(() => {})
  }

  async #read(name: string): Promise<{ tables: string[]; shape: string }> {
    const client = new pg.Client({ connectionString: databaseUrl(name) })
    await client.connect()
    try {
      const tables = (await client.query<{ name: string }>(
        "select tablename as name from pg_tables where schemaname = 'public' and tablename not like '%migration%'",
      )).rows.map((r) => r.name)
      const references = (await client.query<{ child: string; parent: string }>(
        "select conrelid::regclass::text as child, confrelid::regclass::text as parent from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace",
      )).rows
      return { tables: childrenFirst(tables, references), shape: await shapeOf(client) }
    } finally {
      await client.end()
    }
  }
}

/**
 * Columns, indexes and applied migrations, as one string: equal when a database's schema is the
 * template's. Read from pg_catalog: information_schema's views cost PostgreSQL several times more.
 */
async function shapeOf(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ shape: string }>(`
    select string_agg(item, ',' order by item) as shape from (
      select c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod) || ':' || a.attnotnull as item
        from pg_attribute a join pg_class c on c.oid = a.attrelid
        where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
      union all select indexdef from pg_indexes where schemaname = 'public'
      union all select name from keymint_migrations
    ) items`)
  return rows[0]?.shape ?? ''
}

/** Tables ordered so that each comes before every table it references (self-references aside). */
function childrenFirst(tables: string[], references: { child: string; parent: string }[]): string[] {
  const ordered: string[] = []
  const visit = (table: string, path: Set<string>): void => {
    if (ordered.includes(table) || path.has(table)) return
    path.add(table)
    // Everything referencing this table is emptied before it.
    for (const r of references) if (r.parent === table && r.child !== table) visit(r.child, path)
    path.delete(table)
    ordered.push(table)
  }
  for (const table of tables) visit(table, new Set())
  return ordered
}

// Dropping a database takes PostgreSQL a moment of file removal, and the test does not need to
// wait for it: the next test starts while it runs. The pending drops keep the test process
// alive until they are done, so none is left behind; one that fails is reported on stderr.
function dropLater(name: string): void {
  adminQuery(`drop database if exists ${name} with (force)`).catch((err: unknown) => {
    process.stderr.write(`could not drop test database ${name}: ${(err as Error).message}\n`)
    process.exitCode = 1
  })
}

const emptied = new EmptiedDatabases()

// Asked once, as this module loads: suites must be built without awaiting anything. (Node 20
// files tests registered after an `await` in a describe callback under whichever suite is being
// built at the time, so a file's second set of PostgreSQL tests ran inside its first.)
const PG_UNREACHABLE = DIALECTS.includes('postgres') ? await probePostgres() : undefined

/**
 * `describe` once per dialect. Without PostgreSQL its suite is skipped with one clear
 * message, except under CI=true, where it fails. The engines' suites of a file run side by
 * side: they share nothing (each test has its own database and server), and much of their
 * time is spent waiting on the database or on child processes; tests within one suite still
 * run one after another.
 */
export function describeEachDialect(title: string, body: (dialect: Dialect) => void): void {
  describe(title, { concurrency: DIALECTS.length }, () => {
    for (const dialect of DIALECTS) {
      describe(`${title} [${dialect}]`, { concurrency: 1 }, () => {
        if (dialect === 'postgres' && PG_UNREACHABLE !== undefined) {
          if (IN_CI) throw new Error(`PostgreSQL is required under CI=true but unreachable at ${PG_URL}: ${PG_UNREACHABLE}`)
          describe(`PostgreSQL unreachable at ${PG_URL} (${PG_UNREACHABLE}); set KEYMINT_TEST_PG_URL or KEYMINT_TEST_DIALECTS=sqlite`, { skip: true }, () => {})
          return
        }
        body(dialect)
      })
    }
  })
}
