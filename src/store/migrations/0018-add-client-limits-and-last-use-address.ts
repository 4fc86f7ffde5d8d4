import { sql, type Kysely } from 'kysely'
import type { SqlEngine } from '../database-url.js'

// Issue 15, items 3 and 4. A key pair's last use keeps where it came from (address, User-Agent),
// written by the usage flush like `last_used_at`. A client may have a rate limit and a quota;
// quotas are counted across instances in per-day rows the usage flush adds to, and the first
// overrun of a window is noted once, whichever instance sees it.
const INERT_BEFORE = ['last_used_at', 'tokens_issued']
const INERT_AFTER = [...INERT_BEFORE, 'last_used_address', 'last_used_user_agent']

/** PostgreSQL: the key pair trigger of migration 0015, with these columns as changing no credential. */
async function announceKeyPairChangesExcept(db: Kysely<unknown>, inert: readonly string[]): Promise<void> {
  const strip = inert.map((c) => ` - '${c}'`).join('')
  await sql.raw('drop trigger if exists keymint_key_pairs_updated on key_pairs').execute(db)
  await sql.raw(`
    create trigger keymint_key_pairs_updated after update on key_pairs for each row
    when ((to_jsonb(old)${strip}) is distinct from (to_jsonb(new)${strip}))
    execute function keymint_announce_credential_change('k')`).execute(db)
}

export async function up(db: Kysely<unknown>, engine: SqlEngine): Promise<void> {
  await db.schema.alterTable('key_pairs').addColumn('last_used_address', 'text').execute()
  await db.schema.alterTable('key_pairs').addColumn('last_used_user_agent', 'text').execute()
  await db.schema.alterTable('clients').addColumn('rate_limit', 'bigint').execute()
  await db.schema.alterTable('clients').addColumn('rate_limit_per', 'text').execute()
  await db.schema.alterTable('clients').addColumn('quota', 'bigint').execute()
  await db.schema.alterTable('clients').addColumn('quota_per', 'text').execute()
  await db.schema.alterTable('clients').addColumn('quota_mode', 'text', (c) => c.notNull().defaultTo('enforce')).execute()
  await db.schema.createTable('client_token_counts')
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id'))
    .addColumn('day', 'bigint', (c) => c.notNull())
    .addColumn('tokens', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('client_token_counts_pk', ['client_id', 'day'])
    .execute()
  await db.schema.createIndex('client_token_counts_day').on('client_token_counts').column('day').execute()
  await db.schema.createTable('client_limit_overruns')
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id'))
    .addColumn('limit_kind', 'text', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('window_end', 'bigint', (c) => c.notNull())
    .addColumn('noted_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('client_limit_overruns_pk', ['client_id', 'limit_kind', 'window_start'])
    .execute()
  await db.schema.createIndex('client_limit_overruns_end').on('client_limit_overruns').column('window_end').execute()
  if (engine === 'postgres') await announceKeyPairChangesExcept(db, INERT_AFTER)
}

export async function down(db: Kysely<unknown>, engine: SqlEngine): Promise<void> {
  if (engine === 'postgres') await announceKeyPairChangesExcept(db, INERT_BEFORE)
  await db.schema.dropTable('client_limit_overruns').execute()
  await db.schema.dropTable('client_token_counts').execute()
  for (const column of ['quota_mode', 'quota_per', 'quota', 'rate_limit_per', 'rate_limit']) {
    await db.schema.alterTable('clients').dropColumn(column).execute()
  }
  for (const column of ['last_used_user_agent', 'last_used_address']) {
    await db.schema.alterTable('key_pairs').dropColumn(column).execute()
  }
}
