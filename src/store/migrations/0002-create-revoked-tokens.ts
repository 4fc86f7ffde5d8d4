import type { Kysely } from 'kysely'

// Access tokens revoked one by one (RFC 7009). A row is useless once the token has expired,
// so rows carry the token's expiry and are purged after it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('revoked_tokens')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('revoked_tokens_revoked_at_idx').on('revoked_tokens').column('revoked_at').execute()
  await db.schema.createIndex('revoked_tokens_expires_at_idx').on('revoked_tokens').column('expires_at').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('revoked_tokens').execute()
}
