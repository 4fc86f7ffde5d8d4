import type { Kysely } from 'kysely'

// private_key_jwt (RFC 7523): a client may register a public key, and each assertion's jti is
// remembered until the assertion expires so it cannot be replayed.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('public_jwk', 'text').execute()
  await db.schema.createTable('used_client_assertions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('used_client_assertions_expires_idx').on('used_client_assertions').column('expires_at').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('used_client_assertions').execute()
  await db.schema.alterTable('clients').dropColumn('public_jwk').execute()
}
