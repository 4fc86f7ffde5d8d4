import type { Kysely } from 'kysely'

// DPoP (RFC 9449): a client can be made to take sender-constrained tokens only, and the ids of
// the proofs the token endpoint accepted are remembered (hashed with the key's thumbprint) until
// those proofs are too old to be accepted anyway, so no instance accepts one twice.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('require_dpop', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await db.schema.createTable('used_dpop_proofs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('used_dpop_proofs_expires_idx').on('used_dpop_proofs').column('expires_at').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('used_dpop_proofs').execute()
  await db.schema.alterTable('clients').dropColumn('require_dpop').execute()
}
