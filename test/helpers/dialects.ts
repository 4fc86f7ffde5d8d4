import { randomBytes } from 'node:crypto'
import { describe, type TestContext } from 'node:test'
import pg from 'pg'

// One list of engines; every store and HTTP test body runs once per entry (STYLE §9).
export type Dialect = 'sqlite' | 'postgres'

const PG_URL = process.env.KEYMINT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const ONLY = process.env.KEYMINT_TEST_DIALECTS?.split(',').map((d) => d.trim())
export const DIALECTS: readonly Dialect[] = (['sqlite', 'postgres'] as const).filter((d) => !ONLY || ONLY.includes(d))
const IN_CI = process.env.CI === 'true'

let pgProbe: Promise<string | undefined> | undefined

/** Resolves to undefined when PostgreSQL answers, else to the reason it does not. */
function probePostgres(): Promise<string | undefined> {
  pgProbe ??= (async () => {
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
  })()
  return pgProbe
}

// What must stop using a test's database before it is dropped (servers over it), per test.
const usersOf = new WeakMap<TestContext, (() => Promise<unknown>)[]>()

/** Runs `close` before the test's PostgreSQL database is dropped, whatever order hooks run in. */
export function closeBeforeDropping(t: TestContext, close: () => Promise<unknown>): void {
  usersOf.set(t, [...usersOf.get(t) ?? [], close])
}

export interface TestDatabase {
  readonly dialect: Dialect
  readonly url: string
}

/** A database of the test's own: a temp SQLite file, or a fresh PostgreSQL database dropped afterwards. */
export async function createTestDatabase(t: TestContext, dialect: Dialect, dir: string): Promise<TestDatabase> {
  if (dialect === 'sqlite') return { dialect, url: `sqlite:${dir}/keymint-${randomBytes(4).toString('hex')}.db` }
  const name = `keymint_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  try {
    await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  t.after(async () => {
    // A server still connected would see its connections terminated mid-query.
    for (const close of usersOf.get(t) ?? []) await close().catch(() => {})
    const dropper = new pg.Client({ connectionString: PG_URL })
    await dropper.connect()
    try {
      await dropper.query(`drop database if exists ${name} with (force)`)
    } finally {
      await dropper.end()
    }
  })
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  return { dialect, url: url.toString() }
}

/**
 * `describe` once per dialect. Without PostgreSQL its suite is skipped with one clear
 * message, except under CI=true, where it fails.
 */
export function describeEachDialect(title: string, body: (dialect: Dialect) => void): void {
  for (const dialect of DIALECTS) {
    describe(`${title} [${dialect}]`, async () => {
      if (dialect === 'postgres') {
        const reason = await probePostgres()
        if (reason !== undefined) {
          if (IN_CI) throw new Error(`PostgreSQL is required under CI=true but unreachable at ${PG_URL}: ${reason}`)
          describe(`PostgreSQL unreachable at ${PG_URL} (${reason}); set KEYMINT_TEST_PG_URL or KEYMINT_TEST_DIALECTS=sqlite`, { skip: true }, () => {})
          return
        }
      }
      body(dialect)
    })
  }
}
