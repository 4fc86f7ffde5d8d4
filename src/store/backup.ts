import { chmodSync, existsSync } from 'node:fs'
import SqliteDatabase from 'better-sqlite3'

export class BackupRefused extends Error {
  override readonly name = 'BackupRefused'
}

/**
 * A consistent copy of a SQLite database while servers keep writing to it: SQLite's online
 * backup copies pages in steps and starts over whenever a writer changes one it copied.
 * The copy is mode 0600, as the database is: it holds secret hashes and sealed keys.
 */
export async function backupSqliteDatabase(filename: string, to: string): Promise<{ pages: number }> {
  if (!existsSync(filename)) throw new BackupRefused(`database ${filename} does not exist`)
  if (existsSync(to)) throw new BackupRefused(`${to} exists already; choose a new file (a backup never overwrites one)`)
  const source = new SqliteDatabase(filename, { readonly: true, fileMustExist: true })
  try {
    const result = await source.backup(to)
    chmodSync(to, 0o600)
    return { pages: result.totalPages }
  } finally {
    source.close()
  }
}
