import type { Kysely } from 'kysely'

// A client can be disabled (no tokens; those issued before stay refused for good, as for a user
// cut off) and deleted. A deleted client keeps its row: the audit log names it, its revoked key
// pairs stay in the revocation feed, and its ids are never handed out again.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  await db.schema.alterTable('clients').addColumn('tokens_cut_off_at', 'bigint').execute()
  await db.schema.alterTable('clients').addColumn('deleted_at', 'bigint').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['deleted_at', 'tokens_cut_off_at', 'disabled']) {
    await db.schema.alterTable('clients').dropColumn(column).execute()
  }
}
