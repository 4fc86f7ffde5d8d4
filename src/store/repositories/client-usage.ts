import type { Kysely } from 'kysely'
import type { ClientUsageStore } from '../../domain/ports.js'
import type { ClientId } from '../../domain/types.js'
import type { Database } from '../schema.js'

/** Quota counts per client and day, and the once-per-window notes of overruns. */
export function createClientUsageRepository(db: Kysely<Database>): ClientUsageStore {
  return {
    async addTokenCounts(counts) {
      if (counts.length === 0) return
      // Several instances add to the same rows: the addition happens in the database.
      await db.insertInto('client_token_counts')
        .values(counts.map((c) => ({ client_id: c.clientId, day: c.day, tokens: c.tokens })))
        .onConflict((oc) => oc.columns(['client_id', 'day']).doUpdateSet((eb) => ({
          tokens: eb('client_token_counts.tokens', '+', eb.ref('excluded.tokens')),
        })))
        .execute()
    },

    async listTokenCounts(clientIds, fromDay) {
      if (clientIds.length === 0) return []
      const rows = await db.selectFrom('client_token_counts').select(['client_id', 'day', 'tokens'])
        .where('client_id', 'in', [...clientIds]).where('day', '>=', fromDay)
        .execute()
      return rows.map((r) => ({ clientId: r.client_id as ClientId, day: Number(r.day), tokens: Number(r.tokens) }))
    },

    async noteOverrun(overrun, at) {
      const result = await db.insertInto('client_limit_overruns').values({
        client_id: overrun.clientId,
        limit_kind: overrun.limit,
        window_start: overrun.windowStart.getTime(),
        window_end: overrun.windowEnd.getTime(),
        noted_at: at.getTime(),
      }).onConflict((oc) => oc.columns(['client_id', 'limit_kind', 'window_start']).doNothing()).executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
    },

    async prune(beforeDay, now) {
      await db.deleteFrom('client_token_counts').where('day', '<', beforeDay).execute()
      await db.deleteFrom('client_limit_overruns').where('window_end', '<=', now.getTime()).execute()
    },
  }
}
