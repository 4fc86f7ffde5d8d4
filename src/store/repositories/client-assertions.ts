import type { Kysely } from 'kysely'
import type { ClientAssertionStore } from '../../domain/ports.js'
import type { Database } from '../schema.js'

export function createClientAssertionRepository(db: Kysely<Database>): ClientAssertionStore {
  return {
    async remember(id, expiresAt, now) {
      // Expired ids can never be replayed (their assertions are refused as expired); drop them.
      await db.deleteFrom('used_client_assertions').where('expires_at', '<=', now.getTime()).execute()
      const result = await db.insertInto('used_client_assertions')
        .values({ id, expires_at: expiresAt.getTime() })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
    },
  }
}
