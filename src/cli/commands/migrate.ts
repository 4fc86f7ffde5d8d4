import type { Command } from 'commander'
import { redactDatabaseUrl } from '../../store/database-url.js'
import { configFrom, emit, withCommonOptions, type CommonOptions } from '../context.js'

export function registerMigrateCommand(program: Command): void {
  withCommonOptions(program.command('migrate').description('bring the database schema up to date'))
    .action(async (opts: CommonOptions) => {
      const config = configFrom(opts)
      const [{ openDatabase }, { migrateToLatest }] = await Promise.all([import('../../store/database.js'), import('../../store/migrate.js')])
      const database = await openDatabase(config.database.url, { poolSize: 1 })
      try {
        const report = await migrateToLatest(database)
        emit(opts, { database: redactDatabaseUrl(config.database.url), applied: report.applied }, () =>
          report.applied.length === 0 ? 'schema is up to date' : `applied: ${report.applied.join(', ')}`)
      } finally {
        await database.close()
      }
    })
}
