import type { Kysely } from 'kysely'

// A client may ask for tokens signed with another algorithm than the server's default.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('signing_alg', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').dropColumn('signing_alg').execute()
}
