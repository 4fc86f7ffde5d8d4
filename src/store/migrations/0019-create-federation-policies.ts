import type { Kysely } from 'kysely'

// Workload identity federation (issue 16): an account trusts an external issuer's tokens for one
// of its clients. A deleted policy keeps its row (`deleted_at`): the tokens it led to carry its id
// as their `client_id`, and stay refused, and listed in the revocation feed, until they expire.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('federation_policies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.id'))
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    // JSON object of required claim values; JSON Web Key Set or null.
    .addColumn('claims', 'text', (c) => c.notNull())
    .addColumn('jwks', 'text')
    .addColumn('max_age_seconds', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('deleted_at', 'bigint')
    .execute()
  // The token path looks policies up by the presented token's `iss`.
  await db.schema.createIndex('federation_policies_issuer').on('federation_policies').column('issuer').execute()
  await db.schema.createIndex('federation_policies_account').on('federation_policies').column('account_id').execute()
  await db.schema.createIndex('federation_policies_client').on('federation_policies').column('client_id').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('federation_policies').execute()
}
