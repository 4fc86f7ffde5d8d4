import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'

interface MigrationDb {
  apis: { id: string; account_id: string; identifier: string; created_at: number }
  audit_events: {
    id: string; account_id: string | null; actor: string; action: string; target: string | null
    reason: string | null; count: number; details: string; created_at: number
  }
}

// A registered API belongs to exactly one account: tokens name it in `aud`, and a resource
// server trusts any token with its identifier there. Registrations of an identifier another
// account made earlier are removed (audited), then the identifier is unique across accounts.
// An API may also carry a public key (a JWK whose `kid` is its thumbprint) and the JWE key
// management algorithm its tokens are encrypted to that key with.
export async function up(untyped: Kysely<unknown>): Promise<void> {
  const db = untyped as Kysely<MigrationDb>
  const rows = await db.selectFrom('apis').select(['id', 'account_id', 'identifier', 'created_at']).orderBy('created_at').orderBy('id').execute()
  const first = new Map<string, string>()
  const later = rows.filter((r) => {
    if (first.has(r.identifier)) return true
    first.set(r.identifier, r.id)
    return false
  })
  const now = Date.now()
  for (const row of later) {
    await db.deleteFrom('apis').where('id', '=', row.id).execute()
    await db.insertInto('audit_events').values({
      id: randomUUID(), account_id: row.account_id, actor: 'system', action: 'api.removed', target: row.id,
      reason: 'identifier_registered_by_another_account', count: 1, details: JSON.stringify({ identifier: row.identifier }), created_at: now,
    }).execute()
  }
  await untyped.schema.createIndex('apis_identifier_unique').on('apis').column('identifier').unique().execute()
  await untyped.schema.alterTable('apis').addColumn('encryption_jwk', 'text').execute()
  await untyped.schema.alterTable('apis').addColumn('encryption_alg', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('apis').dropColumn('encryption_alg').execute()
  await db.schema.alterTable('apis').dropColumn('encryption_jwk').execute()
  await db.schema.dropIndex('apis_identifier_unique').execute()
}
