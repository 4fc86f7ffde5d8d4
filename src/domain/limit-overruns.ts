import { auditEvent } from './audit.js'
import { describeQuota, describeRateLimit } from './client-limits.js'
import type { Clock, LimitOverrun, Store } from './ports.js'
import type { AccountId, KeyPairId, LimitMode, Quota, RateLimit } from './types.js'
import { enqueueWebhookEvent } from './webhook-events.js'

export interface ReachedLimit extends LimitOverrun {
  readonly accountId: AccountId
  /** The key pair whose request went over. */
  readonly keyPairId: KeyPairId
  readonly mode: LimitMode
  readonly value: RateLimit | Quota
}

/**
 * Records that a client went over a limit, once per client, limit and window whichever instance
 * saw it first: an audit event and a webhook event, in the transaction that notes it. Whether
 * it was recorded now (false: noted before).
 */
export async function recordLimitReached(deps: { store: Store; clock: Clock }, reached: ReachedLimit): Promise<boolean> {
  const at = deps.clock.now()
  return deps.store.transaction(async (tx) => {
    if (!await tx.clientUsage.noteOverrun(reached, at)) return false
    const limit = reached.limit === 'rate' ? describeRateLimit(reached.value as RateLimit) : describeQuota(reached.value as Quota)
    const details = {
      limit: reached.limit,
      mode: reached.mode,
      value: limit,
      client_id: reached.keyPairId,
      window_start: reached.windowStart.toISOString(),
      window_end: reached.windowEnd.toISOString(),
    }
    await tx.audit.insert([auditEvent({
      accountId: reached.accountId, actor: `client:${reached.keyPairId}`, action: 'client.limit_reached', target: reached.clientId,
      reason: reached.limit === 'rate' ? 'rate_limit_reached' : 'quota_reached', details, createdAt: at,
    })])
    await enqueueWebhookEvent(tx, {
      accountId: reached.accountId, type: reached.limit === 'rate' ? 'client.rate_limit_reached' : 'client.quota_reached', at,
      data: { client: reached.clientId, ...details },
    })
    return true
  })
}
