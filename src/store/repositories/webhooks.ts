import type { Kysely, Selectable } from 'kysely'
import type { WebhookDelivery, WebhookEndpoint, WebhookEventType, WebhookStore } from '../../domain/ports.js'
import type { AccountId } from '../../domain/types.js'
import type { SqlEngine } from '../database-url.js'
import { toDate, toDateOrNull } from '../errors.js'
import type { Database, WebhookDeliveriesTable, WebhookEndpointsTable } from '../schema.js'

const toEndpoint = (r: Selectable<WebhookEndpointsTable>): WebhookEndpoint => ({
  id: r.id,
  accountId: r.account_id as AccountId,
  url: r.url,
  events: JSON.parse(r.events) as WebhookEventType[],
  secretSealed: r.secret_sealed,
  createdAt: toDate(r.created_at),
  disabled: Number(r.disabled) === 1,
})

const toDelivery = (r: Selectable<WebhookDeliveriesTable>): WebhookDelivery => ({
  id: r.id,
  endpointId: r.endpoint_id,
  eventType: r.event_type as WebhookEventType,
  payload: r.payload,
  createdAt: toDate(r.created_at),
  attempts: Number(r.attempts),
  nextAttemptAt: toDate(r.next_attempt_at),
  deliveredAt: toDateOrNull(r.delivered_at),
  failedAt: toDateOrNull(r.failed_at),
  lastStatus: r.last_status === null ? null : Number(r.last_status),
  lastError: r.last_error,
})

export function createWebhookRepository(db: Kysely<Database>, engine: SqlEngine): WebhookStore {
  const due = (q: Kysely<Database>, now: number, limit: number) => q.selectFrom('webhook_deliveries').select('id')
    .where('delivered_at', 'is', null).where('failed_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
    .orderBy('next_attempt_at').limit(limit)

  /**
   * Leases due rows to the claim's token and returns their ids. PostgreSQL: in a transaction,
   * skipping rows another instance holds locked. SQLite: one UPDATE statement, so the single
   * writer takes them whole (a read-then-write transaction would fail with SQLITE_BUSY beside
   * another instance).
   */
  const lease = async (now: number, held: { leased_until: number; lease_token: string }, limit: number): Promise<string[]> => {
    if (engine === 'sqlite') {
      const rows = await db.updateTable('webhook_deliveries').set(held)
        .where('id', 'in', due(db, now, limit)).returning('id').execute()
      return rows.map((r) => r.id)
    }
    const run = async (trx: Kysely<Database>) => {
      const ids = (await due(trx, now, limit).forUpdate().skipLocked().execute()).map((r) => r.id)
      if (ids.length > 0) await trx.updateTable('webhook_deliveries').set(held).where('id', 'in', ids).execute()
      return ids
    }
    return db.isTransaction ? run(db) : db.transaction().execute(run)
  }

  return {
    async insertEndpoint(e) {
      await db.insertInto('webhook_endpoints').values({
        id: e.id, account_id: e.accountId, url: e.url, events: JSON.stringify(e.events), secret_sealed: e.secretSealed,
        created_at: e.createdAt.getTime(), disabled: e.disabled ? 1 : 0,
      }).execute()
    },

    async listEndpoints(accountId) {
      const rows = await db.selectFrom('webhook_endpoints').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('id').execute()
      return rows.map(toEndpoint)
    },

    async findEndpoint(id) {
      const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toEndpoint(row)
    },

    async deleteEndpoint(id) {
      await db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute()
      const result = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst()
      return Number(result.numDeletedRows) > 0
    },

    async enqueue(deliveries) {
      if (deliveries.length === 0) return
      await db.insertInto('webhook_deliveries').values(deliveries.map((d) => ({
        id: d.id, endpoint_id: d.endpointId, event_type: d.eventType, payload: d.payload,
        created_at: d.createdAt.getTime(), next_attempt_at: d.createdAt.getTime(),
      }))).execute()
    },

    async listDeliveries(endpointId, limit) {
      const rows = await db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId)
        .orderBy('created_at', 'desc').orderBy('id').limit(limit).execute()
      return rows.map(toDelivery)
    },

    async claimDue(now, held, limit) {
      const ids = await lease(now.getTime(), { leased_until: held.until.getTime(), lease_token: held.token }, limit)
      if (ids.length === 0) return []
      const rows = await db.selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
        .selectAll('d').select(['e.url', 'e.secret_sealed'])
        .where('d.id', 'in', ids).orderBy('d.next_attempt_at').orderBy('d.id')
        .execute()
      return rows.map((r) => ({ ...toDelivery(r), url: r.url, secretSealed: r.secret_sealed }))
    },

    async listSealedSecrets() {
      const rows = await db.selectFrom('webhook_endpoints').select(['id', 'secret_sealed']).orderBy('id').execute()
      return rows.map((r) => ({ id: r.id, secretSealed: r.secret_sealed }))
    },

    async resealSecret(id, secretSealed) {
      await db.updateTable('webhook_endpoints').set({ secret_sealed: secretSealed }).where('id', '=', id).execute()
    },

    // A claim writes its own token as it leases the row (under the row's lock), so a matching
    // token means no other instance has taken the row since, even where the lease has run out.
    async extendLease(id, held) {
      const result = await db.updateTable('webhook_deliveries').set({ leased_until: held.until.getTime() })
        .where('id', '=', id).where('lease_token', '=', held.token)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },

    async recordAttempt(id, token, outcome) {
      const at = outcome.at.getTime()
      const common = { leased_until: null, lease_token: null, last_status: outcome.status, last_error: outcome.kind === 'delivered' ? null : outcome.error }
      const result = await db.updateTable('webhook_deliveries')
        .set((eb) => ({
          ...common,
          attempts: eb('attempts', '+', 1),
          ...(outcome.kind === 'delivered' ? { delivered_at: at } : {}),
          ...(outcome.kind === 'failed' ? { failed_at: at } : {}),
          ...(outcome.kind === 'retry' ? { next_attempt_at: outcome.next.getTime() } : {}),
        }))
        .where('id', '=', id).where('lease_token', '=', token)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
  }
}
