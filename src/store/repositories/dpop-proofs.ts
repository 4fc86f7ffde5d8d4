import type { Kysely } from 'kysely'
import type { DPoPProofStore } from '../../domain/ports.js'
import type { Database } from '../schema.js'

export function createDPoPProofRepository(db: Kysely<Database>): DPoPProofStore {
  return {
    async remember(id, expiresAt, now) {
      // One statement on the token path: a new id is inserted, an id whose time is over is taken
      // over (its proof could not be accepted any more), a live one is left alone: a replay.
      // Pruning happens off the request path (purgeExpired).
      const result = await db.insertInto('used_dpop_proofs')
        .values({ id, expires_at: expiresAt.getTime() })
        .onConflict((oc) => oc.column('id')
          .doUpdateSet({ expires_at: expiresAt.getTime() })
          .where('used_dpop_proofs.expires_at', '<=', now.getTime()))
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
    },
    async purgeExpired(now) {
      const result = await db.deleteFrom('used_dpop_proofs').where('expires_at', '<=', now.getTime()).executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
