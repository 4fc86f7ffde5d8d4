import type { Kysely, Selectable } from 'kysely'
import type { Session, SessionStore } from '../../domain/ports.js'
import type { UserId } from '../../domain/types.js'
import { toDate, toDateOrNull } from '../errors.js'
import type { Database, SessionsTable } from '../schema.js'

const toSession = (row: Selectable<SessionsTable>): Session => ({
  idHash: row.id_hash,
  userId: row.user_id as UserId,
  createdAt: toDate(Number(row.created_at)),
  lastSeenAt: toDate(Number(row.last_seen_at)),
  expiresAt: toDate(Number(row.expires_at)),
  address: row.address,
  userAgent: row.user_agent,
  revokedAt: toDateOrNull(row.revoked_at === null ? null : Number(row.revoked_at)),
})

export function createSessionRepository(db: Kysely<Database>): SessionStore {
  return {
    async insert(s) {
      await db.insertInto('sessions').values({
        id_hash: s.idHash, user_id: s.userId, created_at: s.createdAt.getTime(), last_seen_at: s.lastSeenAt.getTime(),
        expires_at: s.expiresAt.getTime(), address: s.address, user_agent: s.userAgent, revoked_at: null,
      }).execute()
    },
    async findByIdHash(idHash) {
      const row = await db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst()
      return row && toSession(row)
    },
    async touch(idHash, at) {
      await db.updateTable('sessions').set({ last_seen_at: at.getTime() }).where('id_hash', '=', idHash).execute()
    },
    async revoke(idHash, at) {
      const result = await db.updateTable('sessions').set({ revoked_at: at.getTime() })
        .where('id_hash', '=', idHash).where('revoked_at', 'is', null).executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async revokeAllForUser(userId, at) {
      const result = await db.updateTable('sessions').set({ revoked_at: at.getTime() })
        .where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst()
      return Number(result.numUpdatedRows)
    },
    async listLiveForUser(userId, now) {
      const rows = await db.selectFrom('sessions').selectAll()
        .where('user_id', '=', userId).where('revoked_at', 'is', null).where('expires_at', '>', now.getTime())
        .orderBy('created_at', 'desc').execute()
      return rows.map(toSession)
    },
    async deleteEndedForUser(userId, before) {
      const cutoff = before.getTime()
      const result = await db.deleteFrom('sessions').where('user_id', '=', userId)
        .where((eb) => eb.or([eb('revoked_at', '<', cutoff), eb('expires_at', '<', cutoff)])).executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
