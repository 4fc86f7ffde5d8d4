import { Migrator, sql, type Migration } from 'kysely'
import type { OpenDatabase } from './database.js'
import * as m0001 from './migrations/0001-create-core-tables.js'
import * as m0002 from './migrations/0002-create-revoked-tokens.js'
import * as m0003 from './migrations/0003-add-key-activation.js'
import * as m0004 from './migrations/0004-create-audit-events.js'
import * as m0005 from './migrations/0005-add-client-public-keys.js'
import * as m0006 from './migrations/0006-create-apis.js'
import * as m0007 from './migrations/0007-add-hash-key-id.js'
import * as m0008 from './migrations/0008-add-client-signing-alg.js'
import * as m0009 from './migrations/0009-alter-apis.js'
import * as m0010 from './migrations/0010-add-user-token-cut-off.js'
import * as m0011 from './migrations/0011-add-client-secret-auth.js'
import * as m0012 from './migrations/0012-add-client-state.js'
import * as m0013 from './migrations/0013-add-passwords-and-sessions.js'
import * as m0014 from './migrations/0014-add-second-factor.js'
import * as m0015 from './migrations/0015-add-credential-change-triggers.js'
import * as m0016 from './migrations/0016-create-webhooks.js'
import * as m0017 from './migrations/0017-add-key-pair-expiry.js'
import * as m0018 from './migrations/0018-add-client-limits-and-last-use-address.js'
import * as m0019 from './migrations/0019-create-federation-policies.js'
import * as m0020 from './migrations/0020-add-client-dpop.js'
import * as m0021 from './migrations/0021-add-webhook-lease-token.js'

// Append-only: a new migration is a new file listed here, never an edit to a listed one.
export const MIGRATIONS = {
  '0001-create-core-tables': m0001,
  '0002-create-revoked-tokens': m0002,
  '0003-add-key-activation': m0003,
  '0004-create-audit-events': m0004,
  '0005-add-client-public-keys': m0005,
  '0006-create-apis': m0006,
  '0007-add-hash-key-id': m0007,
  '0008-add-client-signing-alg': m0008,
  '0009-alter-apis': m0009,
  '0010-add-user-token-cut-off': m0010,
  '0011-add-client-secret-auth': m0011,
  '0012-add-client-state': m0012,
  '0013-add-passwords-and-sessions': m0013,
  '0014-add-second-factor': m0014,
  '0015-add-credential-change-triggers': m0015,
  '0016-create-webhooks': m0016,
  '0017-add-key-pair-expiry': m0017,
  '0018-add-client-limits-and-last-use-address': m0018,
  '0019-create-federation-policies': m0019,
  '0020-add-client-dpop': m0020,
  '0021-add-webhook-lease-token': m0021,
} as const

export interface MigrationReport {
  readonly applied: string[]
}

/** Brings the schema up to date; applying it to an up-to-date database changes nothing. */
export async function migrateToLatest(database: OpenDatabase): Promise<MigrationReport> {
  const migrations: Record<string, Migration> = {}
  for (const [name, m] of Object.entries(MIGRATIONS)) {
    migrations[name] = { up: (db) => m.up(db, database.engine), down: (db) => m.down(db, database.engine) }
  }
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'keymint_migrations',
    migrationLockTableName: 'keymint_migrations_lock',
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw new Error(`migration failed: ${(error as Error).message ?? String(error)}`, { cause: error })
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) }
}

/** Migrations this database has not had yet (all of them for a database keymint never opened). */
export async function pendingMigrations(database: OpenDatabase): Promise<string[]> {
  const tables = await database.db.introspection.getTables()
  if (!tables.some((t) => t.name === 'keymint_migrations')) return Object.keys(MIGRATIONS)
  const rows = await sql<{ name: string }>`select name from keymint_migrations`.execute(database.db)
  const applied = new Set(rows.rows.map((r) => r.name))
  return Object.keys(MIGRATIONS).filter((name) => !applied.has(name))
}
