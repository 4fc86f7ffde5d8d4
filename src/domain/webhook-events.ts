import { randomId } from '../crypto/random.js'
import type { NewWebhookDelivery, Store, WebhookEventType } from './ports.js'
import type { AccountId } from './types.js'

/** Events an endpoint may subscribe to (`webhook.test` is sent on request only). */
export const WEBHOOK_EVENTS: readonly WebhookEventType[] = [
  'key_pair.generated', 'key_pair.rotated', 'key_pair.rotation_finished', 'key_pair.rotation_cancelled', 'key_pair.revoked',
  'key_pair.expiring', 'key_pair.expired', 'user.disabled', 'client.rate_limit_reached', 'client.quota_reached',
]

/** The body every delivery sends (Standard Webhooks: type, timestamp, data). */
export function webhookPayload(type: WebhookEventType, at: Date, data: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ type, timestamp: at.toISOString(), data })
}

/**
 * Puts one delivery per subscribed endpoint of the account in the outbox. Called with the store
 * of the transaction that makes the change, so the event exists exactly when the change does.
 */
export async function enqueueWebhookEvent(
  tx: Pick<Store, 'webhooks'>,
  event: { accountId: AccountId; type: WebhookEventType; data: Readonly<Record<string, unknown>>; at: Date },
): Promise<void> {
  const endpoints = (await tx.webhooks.listEndpoints(event.accountId)).filter((e) => !e.disabled && e.events.includes(event.type))
  if (endpoints.length === 0) return
  const payload = webhookPayload(event.type, event.at, event.data)
  const deliveries: NewWebhookDelivery[] = endpoints.map((e) => ({ id: `msg_${randomId()}`, endpointId: e.id, eventType: event.type, payload, createdAt: event.at }))
  await tx.webhooks.enqueue(deliveries)
}
