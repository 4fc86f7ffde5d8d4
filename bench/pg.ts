import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** Where benchmarks make their PostgreSQL databases (KEYMINT_BENCH_PG_URL names any database of the server). */
export const BENCH_PG_URL = process.env.KEYMINT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: BENCH_PG_URL, connectionTimeoutMillis: 10_000 })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}

/** Whether the benchmark's PostgreSQL answers; the reason when it does not. */
export async function postgresReachable(): Promise<string | undefined> {
  try {
    await admin('select 1')
    return undefined
  } catch (err) {
    return (err as Error).message || String(err)
  }
}

/** A fresh, empty database; `drop` removes it (and any connection left to it). */
export async function createBenchDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `keymint_bench_${label.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${randomBytes(4).toString('hex')}`
  await admin(`create database ${name}`)
  const url = new URL(BENCH_PG_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) }
}
