import type { Kysely } from 'kysely'

// Who did what and when. Token issuance is a counter on the key pair, not a row per token.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('reason', 'text')
    .addColumn('count', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('audit_events_account_time_idx').on('audit_events').columns(['account_id', 'created_at']).execute()
  await db.schema.createIndex('audit_events_time_idx').on('audit_events').column('created_at').execute()
  await db.schema.alterTable('key_pairs').addColumn('tokens_issued', 'bigint', (c) => c.notNull().defaultTo(0)).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('key_pairs').dropColumn('tokens_issued').execute()
  await db.schema.dropTable('audit_events').execute()
}
