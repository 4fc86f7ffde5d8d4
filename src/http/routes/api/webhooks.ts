import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import type { WebhookDelivery, WebhookEndpoint } from '../../../domain/ports.js'
import { WEBHOOK_EVENTS } from '../../../domain/webhook-events.js'
import { deleteWebhook, listWebhookDeliveries, listWebhooks, registerWebhook, sendTestWebhook } from '../../../domain/webhooks.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { itemsOf } from '../../schemas/management.js'
import { jsonResponse, Nullable, StringEnum } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

const EXAMPLE_ID = '3f0c2a9e-5b7d-4c1e-9a2f-6d8e0b1c4a7f'
const EXAMPLE_AT = '2025-03-01T08:00:00.000Z'

const Webhook = Type.Object({
  id: Type.String({ description: "The endpoint's id." }),
  url: Type.String({ description: 'Where deliveries are POSTed.' }),
  events: Type.Array(StringEnum(WEBHOOK_EVENTS), { description: 'The events it receives.' }),
  created_at: Type.String(),
  disabled: Type.Boolean(),
}, { additionalProperties: false })

const exampleWebhook: Static<typeof Webhook> = { id: EXAMPLE_ID, url: 'https://hooks.example.com/keymint', events: ['key_pair.rotated', 'key_pair.revoked'], created_at: EXAMPLE_AT, disabled: false }

const NewWebhook = Type.Object({
  url: Type.String({ maxLength: 2048, description: 'An https URL (http to a loopback address only with KEYMINT_WEBHOOKS_ALLOW_LOOPBACK=true, for development).' }),
  events: Type.Array(StringEnum(WEBHOOK_EVENTS), { minItems: 1, maxItems: 16, description: 'The events to receive.' }),
}, { additionalProperties: false, examples: [{ url: 'https://hooks.example.com/keymint', events: ['key_pair.rotated', 'key_pair.revoked'] }] })

const Registered = Type.Object({
  webhook: Webhook,
  secret: Type.String({ description: 'The signing secret (`whsec_` and base64): shown in this response only. Deliveries carry `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with its base64-decoded part after `whsec_`.' }),
}, { additionalProperties: false })

const Delivery = Type.Object({
  id: Type.String({ description: 'The message id, sent as `webhook-id`; the same on every attempt.' }),
  event_type: Type.String(),
  payload: Type.String({ description: 'The JSON body sent, as sent.' }),
  created_at: Type.String(),
  attempts: Type.Integer(),
  state: StringEnum(['pending', 'delivered', 'failed'] as const),
  next_attempt_at: Nullable(Type.String({ description: 'When it is tried next; null once delivered or failed.' })),
  delivered_at: Nullable(Type.String()),
  failed_at: Nullable(Type.String({ description: 'When it was given up, a day after the event.' })),
  last_status: Nullable(Type.Integer({ description: 'The HTTP status of the last attempt; null when none answered.' })),
  last_error: Nullable(Type.String({ description: 'Why the last attempt failed: `HTTP 503`, `ECONNREFUSED`, `TimeoutError`…' })),
}, { additionalProperties: false })

const exampleDelivery = {
  id: 'msg_9b2d6f4e-1a3c-4e5f-8b7d-2c4e6a8b0d1f', event_type: 'key_pair.rotated', payload: '{"type":"key_pair.rotated","timestamp":"2025-03-01T08:00:00.000Z","data":{}}',
  created_at: EXAMPLE_AT, attempts: 1, state: 'delivered', next_attempt_at: null, delivered_at: EXAMPLE_AT, failed_at: null, last_status: 204, last_error: null,
} as const

const WebhookParams = Type.Object({ id: Type.String({ format: 'uuid', description: "The endpoint's id." }) }, { additionalProperties: false })
const DeliveriesQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }, { additionalProperties: false })

const presentWebhook = (e: WebhookEndpoint) => ({ id: e.id, url: e.url, events: [...e.events], created_at: e.createdAt.toISOString(), disabled: e.disabled })
const presentDelivery = (d: WebhookDelivery) => {
  const state = d.deliveredAt ? 'delivered' as const : d.failedAt ? 'failed' as const : 'pending' as const
  return {
    id: d.id, event_type: d.eventType, payload: d.payload, created_at: d.createdAt.toISOString(), attempts: d.attempts, state,
    next_attempt_at: state === 'pending' ? d.nextAttemptAt.toISOString() : null,
    delivered_at: d.deliveredAt?.toISOString() ?? null, failed_at: d.failedAt?.toISOString() ?? null, last_status: d.lastStatus, last_error: d.lastError,
  }
}

/** The account's signed webhook endpoints: register, list, delete, test, and their delivery log. */
export async function webhookRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const config = { requiredScope: 'keymint:admin' } as const
  app.get('/webhooks', {
    config,
    schema: {
      operationId: 'listWebhooks', summary: 'List webhook endpoints', tags: ['webhooks'],
      description: "The caller's account's webhook endpoints; never their secrets.",
      response: { 200: jsonResponse('The endpoints.', itemsOf(Webhook), { items: [exampleWebhook] }), ...problemResponses },
    },
  }, async (request) => ({ items: (await listWebhooks(deps, { accountId: callerOf(request).accountId })).map(presentWebhook) }))

  app.post('/webhooks', {
    config,
    schema: {
      operationId: 'registerWebhook', summary: 'Register a webhook endpoint', tags: ['webhooks'],
      description: 'Registers an endpoint for the chosen events. Its signing secret is in this response only. Events are written with the change that causes them and delivered signed (Standard Webhooks), retried with exponential backoff for a day.',
      body: NewWebhook,
      response: { 201: jsonResponse('The endpoint, and its secret.', Registered, { webhook: exampleWebhook, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }), ...problemResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const { endpoint, secret } = await registerWebhook({ ...deps, policy: deps.webhooks }, { accountId: caller.accountId, url: request.body.url, events: request.body.events, actor: caller.actor })
    reply.header('cache-control', 'no-store')
    return reply.status(201).send({ webhook: presentWebhook(endpoint), secret })
  })

  app.delete('/webhooks/:id', {
    config,
    schema: {
      operationId: 'deleteWebhook', summary: 'Delete a webhook endpoint', tags: ['webhooks'],
      description: 'Removes the endpoint and its delivery log; what was not delivered yet is not sent.',
      params: WebhookParams,
      response: { 204: { description: 'Deleted.', type: 'null' }, ...problemResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    await deleteWebhook(deps, { accountId: caller.accountId, id: request.params.id, actor: caller.actor })
    return reply.status(204).send(null)
  })

  app.post('/webhooks/:id/test', {
    config,
    schema: {
      operationId: 'sendTestWebhook', summary: 'Send a test event', tags: ['webhooks'],
      description: 'Puts a `webhook.test` event in the outbox of this endpoint; it is delivered like any other. The body may be left out.',
      params: WebhookParams,
      response: { 202: jsonResponse('The delivery, queued.', Delivery, { ...exampleDelivery, event_type: 'webhook.test', attempts: 0, state: 'pending', next_attempt_at: EXAMPLE_AT, delivered_at: null, last_status: null }), ...problemResponses },
    },
  }, async (request, reply) => {
    const delivery = await sendTestWebhook(deps, { accountId: callerOf(request).accountId, id: request.params.id })
    return reply.status(202).send(presentDelivery(delivery))
  })

  app.get('/webhooks/:id/deliveries', {
    config,
    schema: {
      operationId: 'listWebhookDeliveries', summary: "List an endpoint's deliveries", tags: ['webhooks'],
      description: 'The delivery log, newest first: pending (with the next attempt), delivered, or failed, with the last status or error.',
      params: WebhookParams,
      querystring: DeliveriesQuery,
      response: { 200: jsonResponse('The deliveries.', itemsOf(Delivery), { items: [exampleDelivery] }), ...problemResponses },
    },
  }, async (request) => {
    const items = await listWebhookDeliveries(deps, { accountId: callerOf(request).accountId, id: request.params.id, limit: request.query.limit ?? 100 })
    return { items: items.map(presentDelivery) }
  })
}
