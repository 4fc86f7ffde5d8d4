import type { Kysely } from 'kysely'
import type { ServerKeyStore } from '../../domain/ports.js'
import { toDate, toDateOrNull } from '../errors.js'
import { announceChange } from '../changes.js'
import type { SqlEngine } from '../database-url.js'
import type { Database } from '../schema.js'

export function createServerKeyRepository(db: Kysely<Database>, engine: SqlEngine): ServerKeyStore {
  return {
    async insert(key) {
      await db.insertInto('server_keys').values({
        kid: key.kid,
        use: key.use,
        alg: key.alg,
        public_jwk: JSON.stringify(key.publicJwk),
        private_key_sealed: key.privateKeySealed,
        created_at: key.createdAt.getTime(),
        activates_at: key.activatesAt.getTime(),
        retired_at: key.retiredAt?.getTime() ?? null,
      }).execute()
      await announceChange(db, engine, 'server_keys')
    },
    async listAll() {
      const rows = await db.selectFrom('server_keys').selectAll().orderBy('created_at', 'desc').execute()
      return rows.map((r) => ({
        kid: r.kid,
        use: r.use as 'sig' | 'enc',
        alg: r.alg,
        publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
        privateKeySealed: r.private_key_sealed,
        createdAt: toDate(r.created_at),
        activatesAt: toDate(r.activates_at ?? r.created_at),
        retiredAt: toDateOrNull(r.retired_at),
      }))
    },
    async reseal(kid, privateKeySealed) {
      await db.updateTable('server_keys').set({ private_key_sealed: privateKeySealed }).where('kid', '=', kid).execute()
    },
    async retire(kid, at) {
      const result = await db.updateTable('server_keys').set({ retired_at: at.getTime() })
        .where('kid', '=', kid).where('retired_at', 'is', null).executeTakeFirst()
      const retired = Number(result.numUpdatedRows) > 0
      if (retired) await announceChange(db, engine, 'server_keys')
      return retired
    },
  }
}
