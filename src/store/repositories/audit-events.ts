import type { Kysely } from 'kysely'
import type { AuditAction, AuditStore } from '../../domain/audit.js'
import type { AccountId } from '../../domain/types.js'
import { toDate } from '../errors.js'
import type { Database } from '../schema.js'

export function createAuditRepository(db: Kysely<Database>): AuditStore {
  return {
    async insert(events) {
      if (events.length === 0) return
      await db.insertInto('audit_events').values(events.map((e) => ({
        id: e.id,
        account_id: e.accountId,
        actor: e.actor,
        action: e.action,
        target: e.target,
        reason: e.reason,
        count: e.count,
        details: JSON.stringify(e.details),
        created_at: e.createdAt.getTime(),
      }))).execute()
    },
    async list(query) {
      let q = db.selectFrom('audit_events').selectAll()
      if (query.accountId) q = q.where('account_id', '=', query.accountId)
      if (query.since) q = q.where('created_at', '>=', query.since.getTime())
      if (query.after) {
        const { time, id } = query.after
        q = q.where((eb) => eb.or([eb('created_at', '<', time.getTime()), eb.and([eb('created_at', '=', time.getTime()), eb('id', '>', id)])]))
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id').limit(query.limit).execute()
      return rows.map((r) => ({
        id: r.id,
        accountId: r.account_id as AccountId | null,
        actor: r.actor,
        action: r.action as AuditAction,
        target: r.target,
        reason: r.reason,
        count: r.count,
        details: JSON.parse(r.details) as Record<string, unknown>,
        createdAt: toDate(r.created_at),
      }))
    },
  }
}
