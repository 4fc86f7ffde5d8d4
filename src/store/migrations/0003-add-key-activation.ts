import type { Kysely } from 'kysely'

// A rotated-in signing key is published first and signs only from `activates_at` on, so
// verifiers that cache the JWKS know it before they meet a token it signed. Null: at creation.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('server_keys').addColumn('activates_at', 'bigint').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('server_keys').dropColumn('activates_at').execute()
}
