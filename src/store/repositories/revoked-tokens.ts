import type { Kysely } from 'kysely'
import type { RevokedTokenStore } from '../../domain/ports.js'
import type { AccountId } from '../../domain/types.js'
import { toDate } from '../errors.js'
import { announceChange } from '../changes.js'
import type { SqlEngine } from '../database-url.js'
import type { Database } from '../schema.js'

export function createRevokedTokenRepository(db: Kysely<Database>, engine: SqlEngine): RevokedTokenStore {
  return {
    async insert(token) {
      await db.insertInto('revoked_tokens').values({
        jti: token.jti,
        account_id: token.accountId,
        expires_at: token.expiresAt.getTime(),
        revoked_at: token.revokedAt.getTime(),
      }).onConflict((oc) => oc.column('jti').doNothing()).execute()
      await announceChange(db, engine, 'revocations')
    },
    async listRevokedSince(since, limit) {
      const rows = await db.selectFrom('revoked_tokens').selectAll()
        .where('revoked_at', '>', since.getTime())
        .orderBy('revoked_at').orderBy('jti').limit(limit).execute()
      return rows.map((r) => ({
        jti: r.jti, accountId: r.account_id as AccountId, expiresAt: toDate(r.expires_at), revokedAt: toDate(r.revoked_at),
      }))
    },
    async listForAccount(accountId, since, now) {
      const rows = await db.selectFrom('revoked_tokens').selectAll()
        .where('account_id', '=', accountId)
        .where('revoked_at', '>', since.getTime())
        .where('expires_at', '>', now.getTime())
        .orderBy('revoked_at').execute()
      return rows.map((r) => ({
        jti: r.jti, accountId: r.account_id as AccountId, expiresAt: toDate(r.expires_at), revokedAt: toDate(r.revoked_at),
      }))
    },
    async purgeExpired(now) {
      const result = await db.deleteFrom('revoked_tokens').where('expires_at', '<=', now.getTime()).executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
