import type { Kysely } from 'kysely'

// Key pairs that expire (issue 15, item 1). `lifetime_ends_at` is the pair's own end, set when it
// is issued; `expires_at` stays the end of a rotation grace. An account may set a default and a
// maximum lifetime for its new pairs. Each reminder (30, 7, 1 days before, and the expiry itself)
// is recorded once per pair and horizon: the primary key makes two instances racing produce one.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('key_pairs').addColumn('lifetime_ends_at', 'bigint').execute()
  await db.schema.createIndex('key_pairs_lifetime_ends_at').on('key_pairs').column('lifetime_ends_at').execute()
  await db.schema.alterTable('accounts').addColumn('default_key_expires_in', 'integer').execute()
  await db.schema.alterTable('accounts').addColumn('max_key_expires_in', 'integer').execute()
  await db.schema.createTable('key_pair_expiry_notices')
    .addColumn('key_pair_id', 'text', (c) => c.notNull().references('key_pairs.id'))
    .addColumn('horizon', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('key_pair_expiry_notices_pk', ['key_pair_id', 'horizon'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('key_pair_expiry_notices').execute()
  await db.schema.alterTable('accounts').dropColumn('max_key_expires_in').execute()
  await db.schema.alterTable('accounts').dropColumn('default_key_expires_in').execute()
  await db.schema.dropIndex('key_pairs_lifetime_ends_at').execute()
  await db.schema.alterTable('key_pairs').dropColumn('lifetime_ends_at').execute()
}
