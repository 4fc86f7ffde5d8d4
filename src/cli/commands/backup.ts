import type { Command } from 'commander'
import { InvalidInput } from '../../domain/errors.js'
import { backupSqliteDatabase } from '../../store/backup.js'
import { parseDatabaseUrl } from '../../store/database-url.js'
import { configFrom, emit, withCommonOptions, type CommonOptions } from '../context.js'

const PG_DUMP = 'keymint keeps everything in PostgreSQL, whose own tools copy it consistently while it runs, '
  + 'and restore it with its roles and extensions: use pg_dump --format=custom (and pg_restore), or your provider\'s snapshots. '
  + 'Keep the master key with the backup: without it nothing stored can be used.'

export function registerBackupCommand(program: Command): void {
  withCommonOptions(program.command('backup').description('copy a SQLite database consistently, also while serve runs'))
    .requiredOption('--to <file>', 'the new file to write (never overwritten)')
    .action(async (opts: CommonOptions & { to: string }) => {
      const config = configFrom(opts)
      const location = parseDatabaseUrl(config.database.url)
      if (location.engine !== 'sqlite') throw new InvalidInput('KEYMINT_INVALID_INPUT', `backup copies SQLite databases. ${PG_DUMP}`)
      if (location.filename === ':memory:') throw new InvalidInput('KEYMINT_INVALID_INPUT', 'an in-memory database has nothing to back up')
      const { pages } = await backupSqliteDatabase(location.filename, opts.to)
      const keyFile = config.masterKey.value === undefined ? config.masterKey.file : undefined
      emit(opts, { database: location.filename, to: opts.to, pages, master_key_file: keyFile ?? null }, () => [
        `backed up ${location.filename} to ${opts.to} (${pages} pages, mode 0600)`,
        `the backup does not hold the master key${keyFile ? ` (${keyFile})` : ''}: keep a copy of it apart from the backups`,
      ].join('\n'))
    })
}
