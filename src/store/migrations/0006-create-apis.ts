import type { Kysely } from 'kysely'

// The APIs (resource servers) an account registers; tokens name one in `aud` (RFC 8707).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('apis')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('apis_account_identifier_unique', ['account_id', 'identifier'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('apis').execute()
}
