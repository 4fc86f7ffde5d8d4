import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import type { Clock, ExpiringKeyPair, ExpiryHorizon, Store } from './ports.js'
import type { AccountId, ClientId, KeyPairId } from './types.js'
import { enqueueWebhookEvent } from './webhook-events.js'

// Reminders of key pairs' expiry (issue 15, item 1): at 30, 7 and 1 days before, and when it
// comes. Every instance sweeps; the notice recorded in the database decides which one sends.

const DAY_MS = 86400 * 1000
export type ReminderHorizon = Exclude<ExpiryHorizon, 'expired'>
/** Narrowest first. */
export const REMINDER_HORIZONS: readonly { horizon: ReminderHorizon; ms: number }[] = [
  { horizon: '1d', ms: DAY_MS }, { horizon: '7d', ms: 7 * DAY_MS }, { horizon: '30d', ms: 30 * DAY_MS },
]
const WIDEST_MS = 30 * DAY_MS

/**
 * The reminder due for a pair ending at `endsAt`: the narrowest horizon it is within (only that
 * one: a pair issued with five days to live gets the 7-day reminder, not the 30-day one too).
 */
export function dueHorizon(endsAt: Date, now: Date): ExpiryHorizon | undefined {
  const left = endsAt.getTime() - now.getTime()
  if (left <= 0) return 'expired'
  return REMINDER_HORIZONS.find((h) => left <= h.ms)?.horizon
}

export interface ExpirySweep {
  /** The reminders this sweep sent (another instance may have sent others). */
  readonly sent: readonly { keyPairId: KeyPairId; horizon: ExpiryHorizon }[]
  /** Working pairs expiring within each horizon, of every account. */
  readonly expiring: Readonly<Record<ReminderHorizon, number>>
}

/** Sends each reminder that is due and not sent yet: one audit event and one webhook event per pair and horizon. */
export async function sendExpiryReminders(deps: { store: Store; clock: Clock }): Promise<ExpirySweep> {
  const now = deps.clock.now()
  const pairs = await deps.store.keyPairs.listExpiring({ until: new Date(now.getTime() + WIDEST_MS) })
  const expiring: Record<ReminderHorizon, number> = { '30d': 0, '7d': 0, '1d': 0 }
  for (const p of pairs) {
    const left = p.lifetimeEndsAt.getTime() - now.getTime()
    for (const h of REMINDER_HORIZONS) if (left > 0 && left <= h.ms) expiring[h.horizon] += 1
  }
  const sent: { keyPairId: KeyPairId; horizon: ExpiryHorizon }[] = []
  for (const pair of pairs) {
    const horizon = dueHorizon(pair.lifetimeEndsAt, now)
    if (horizon === undefined || pair.noticesSent.includes(horizon)) continue
    if (await sendReminder(deps.store, pair, horizon, now)) sent.push({ keyPairId: pair.id, horizon })
  }
  return { sent, expiring }
}

/** One reminder, in one transaction with its notice: whichever instance records the notice first sends it. */
async function sendReminder(store: Store, pair: ExpiringKeyPair, horizon: ExpiryHorizon, now: Date): Promise<boolean> {
  return store.transaction(async (tx) => {
    if (!await tx.keyPairs.recordExpiryNotice(pair.id, horizon, now)) return false
    const expiresAt = pair.lifetimeEndsAt.toISOString()
    const expired = horizon === 'expired'
    const details = expired ? { client_id: pair.id, expires_at: expiresAt } : { client_id: pair.id, horizon, expires_at: expiresAt }
    await tx.audit.insert([auditEvent({
      accountId: pair.accountId, actor: DEFAULT_ACTOR, action: expired ? 'key_pair.expired' : 'key_pair.expiring', target: pair.clientId,
      ...(expired ? { reason: 'key_pair_expired' } : {}), details, createdAt: now,
    })])
    await enqueueWebhookEvent(tx, { accountId: pair.accountId, type: expired ? 'key_pair.expired' : 'key_pair.expiring', data: { client: pair.clientId, ...details }, at: now })
    return true
  })
}

export interface ExpiringSoon {
  readonly keyPairId: KeyPairId
  readonly clientId: ClientId
  readonly clientName: string
  readonly expiresAt: Date
}

/** The account's working key pairs that expire within `withinSeconds`, soonest first: what the dashboard's banner lists. */
export async function listExpiringKeyPairs(
  deps: { store: Store; clock: Clock },
  input: { accountId: AccountId; withinSeconds: number },
): Promise<ExpiringSoon[]> {
  const now = deps.clock.now()
  const pairs = await deps.store.keyPairs.listExpiring({ accountId: input.accountId, until: new Date(now.getTime() + input.withinSeconds * 1000) })
  return pairs.filter((p) => p.lifetimeEndsAt > now)
    .map((p) => ({ keyPairId: p.id, clientId: p.clientId, clientName: p.clientName, expiresAt: p.lifetimeEndsAt }))
}
