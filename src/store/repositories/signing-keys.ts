import type { Kysely } from 'kysely'
import type { SigningKeyStore } from '../../domain/ports.js'
import { toDate, toDateOrNull } from '../errors.js'
import type { Database } from '../schema.js'

export function createSigningKeyRepository(db: Kysely<Database>): SigningKeyStore {
  return {
    async insert(key) {
      await db.insertInto('signing_keys').values({
        kid: key.kid,
        alg: key.alg,
        public_jwk: JSON.stringify(key.publicJwk),
        private_key_sealed: key.privateKeySealed,
        created_at: key.createdAt.getTime(),
        retired_at: key.retiredAt?.getTime() ?? null,
      }).execute()
    },
    async listPublished() {
      const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute()
      return rows.map((r) => ({
        kid: r.kid,
        alg: r.alg,
        publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
        privateKeySealed: r.private_key_sealed,
        createdAt: toDate(r.created_at),
        retiredAt: toDateOrNull(r.retired_at),
      }))
    },
  }
}
