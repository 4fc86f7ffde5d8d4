import type { Kysely } from 'kysely'

// Each claim of webhook deliveries writes a token of its own beside the lease's end: an instance
// sends a delivery, and records its attempt, only while the row still carries its token, so a
// delivery whose lease ran out and was claimed by another instance is never sent by both.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webhook_deliveries').addColumn('lease_token', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webhook_deliveries').dropColumn('lease_token').execute()
}
