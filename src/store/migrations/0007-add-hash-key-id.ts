import type { Kysely } from 'kysely'

// Which master key a key pair's secret hash was made under, so a master key rotation can tell
// when no live pair needs the previous key any more. Null: made before this was recorded.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('key_pairs').addColumn('hash_key_id', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('key_pairs').dropColumn('hash_key_id').execute()
}
