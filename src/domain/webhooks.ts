import { randomId, randomSecretBytes } from '../crypto/random.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { InvalidInput, NotFound } from './errors.js'
import type { Clock, Store, WebhookDelivery, WebhookEndpoint, WebhookEventType } from './ports.js'
import type { Sealer } from './server-keys.js'
import type { AccountId } from './types.js'
import { WEBHOOK_EVENTS, webhookPayload } from './webhook-events.js'

export interface WebhookPolicy {
  /** Development only: `http://127.0.0.1`, `http://[::1]` and `http://localhost` URLs are accepted. */
  readonly allowLoopback: boolean
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])
const MAX_URL_LENGTH = 2048

/** Associated data binds a sealed secret to its endpoint: copied to another row, it does not open. */
export const sealedForEndpoint = (id: string): string => `webhook:${id}`

function requireWebhookUrl(value: string, policy: WebhookPolicy): string {
  let url: URL
  try {
    url = new URL(value)
  } catch (err) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'url must be an absolute https URL', { cause: err })
  }
  if (value.length > MAX_URL_LENGTH) throw new InvalidInput('KEYMINT_INVALID_INPUT', `url must be at most ${MAX_URL_LENGTH} characters`)
  if (url.username || url.password) throw new InvalidInput('KEYMINT_INVALID_INPUT', 'url must not carry credentials')
  if (url.hash) throw new InvalidInput('KEYMINT_INVALID_INPUT', 'url must not have a fragment')
  if (url.protocol === 'https:') return url.href
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) {
    if (policy.allowLoopback) return url.href
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'url must be https; http to a loopback address needs KEYMINT_WEBHOOKS_ALLOW_LOOPBACK=true (development only)')
  }
  throw new InvalidInput('KEYMINT_INVALID_INPUT', 'url must be https')
}

function requireEvents(values: readonly string[]): WebhookEventType[] {
  if (values.length === 0) throw new InvalidInput('KEYMINT_INVALID_INPUT', `events must name at least one of ${WEBHOOK_EVENTS.join(', ')}`)
  const unknown = values.filter((v) => !(WEBHOOK_EVENTS as readonly string[]).includes(v))
  if (unknown.length > 0) throw new InvalidInput('KEYMINT_INVALID_INPUT', `events must be among ${WEBHOOK_EVENTS.join(', ')}`)
  return [...new Set(values as WebhookEventType[])]
}

/** Registers an endpoint; its secret is returned here only and kept sealed. */
export async function registerWebhook(
  deps: { store: Store; clock: Clock; sealer: Sealer; policy: WebhookPolicy },
  input: { accountId: AccountId; url: string; events: readonly string[]; actor?: string },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const url = requireWebhookUrl(input.url, deps.policy)
  const events = requireEvents(input.events)
  const id = randomId()
  // Standard Webhooks: `whsec_` and the base64 of the key bytes.
  const secret = `whsec_${randomSecretBytes(24).toString('base64')}`
  const now = deps.clock.now()
  const endpoint: WebhookEndpoint = {
    id, accountId: input.accountId, url, events, secretSealed: deps.sealer.seal(secret, sealedForEndpoint(id)), createdAt: now, disabled: false,
  }
  await deps.store.transaction(async (tx) => {
    await tx.webhooks.insertEndpoint(endpoint)
    await tx.audit.insert([auditEvent({
      accountId: input.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'webhook.created', target: id, details: { url, events }, createdAt: now,
    })])
  })
  return { endpoint, secret }
}

/** The account's endpoint with this id; another account's is not found. */
export async function getWebhook(deps: { store: Store }, input: { accountId: AccountId; id: string }): Promise<WebhookEndpoint> {
  const endpoint = await deps.store.webhooks.findEndpoint(input.id)
  if (!endpoint || endpoint.accountId !== input.accountId) throw new NotFound('KEYMINT_WEBHOOK_NOT_FOUND', `webhook ${input.id} not found`)
  return endpoint
}

export async function listWebhooks(deps: { store: Store }, input: { accountId: AccountId }): Promise<WebhookEndpoint[]> {
  return deps.store.webhooks.listEndpoints(input.accountId)
}

/** Removes the endpoint and its pending deliveries. */
export async function deleteWebhook(
  deps: { store: Store; clock: Clock },
  input: { accountId: AccountId; id: string; actor?: string },
): Promise<void> {
  await deps.store.transaction(async (tx) => {
    const endpoint = await getWebhook({ store: tx }, input)
    await tx.webhooks.deleteEndpoint(endpoint.id)
    await tx.audit.insert([auditEvent({
      accountId: input.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'webhook.deleted', target: endpoint.id, details: { url: endpoint.url }, createdAt: deps.clock.now(),
    })])
  })
}

/** Puts a `webhook.test` event in the outbox of this endpoint alone. */
export async function sendTestWebhook(
  deps: { store: Store; clock: Clock },
  input: { accountId: AccountId; id: string },
): Promise<WebhookDelivery> {
  const endpoint = await getWebhook(deps, input)
  const now = deps.clock.now()
  const delivery = { id: `msg_${randomId()}`, endpointId: endpoint.id, eventType: 'webhook.test' as const, payload: webhookPayload('webhook.test', now, { webhook_id: endpoint.id }), createdAt: now }
  await deps.store.webhooks.enqueue([delivery])
  return { ...delivery, attempts: 0, nextAttemptAt: now, deliveredAt: null, failedAt: null, lastStatus: null, lastError: null }
}

export async function listWebhookDeliveries(
  deps: { store: Store },
  input: { accountId: AccountId; id: string; limit?: number },
): Promise<WebhookDelivery[]> {
  const endpoint = await getWebhook(deps, input)
  return deps.store.webhooks.listDeliveries(endpoint.id, input.limit ?? 100)
}
