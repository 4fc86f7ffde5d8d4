import { closeSync, existsSync, openSync, rmSync } from 'node:fs'
import SqliteDatabase from 'better-sqlite3'

export class BackupRefused extends Error {
  override readonly name = 'BackupRefused'
}

/**
 * A consistent copy of a SQLite database while servers keep writing to it: SQLite's online
 * backup copies pages in steps and starts over whenever a writer changes one it copied.
 * The copy holds secret hashes and sealed keys, so it is created mode 0600 (an empty file is
 * an empty database) before a byte is written into it; created exclusively, so a file that
 * appears meanwhile is not overwritten either.
 */
export async function backupSqliteDatabase(filename: string, to: string): Promise<{ pages: number }> {
  if (!existsSync(filename)) throw new BackupRefused(`database ${filename} does not exist`)
  const refuseExisting = () => new BackupRefused(`${to} exists already; choose a new file (a backup never overwrites one)`)
  if (existsSync(to)) throw refuseExisting()
  const source = new SqliteDatabase(filename, { readonly: true, fileMustExist: true })
  try {
    try {
      closeSync(openSync(to, 'wx', 0o600))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw refuseExisting()
      throw err
    }
    try {
      const result = await source.backup(to)
      return { pages: result.totalPages }
    } catch (err) {
      rmSync(to, { force: true })
      throw err
    }
  } finally {
    source.close()
  }
}
