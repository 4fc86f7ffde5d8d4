import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { listExpiringKeyPairs } from '../../../domain/expiry-reminders.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { keyPairId } from '../../schemas/key-pair-id.js'
import { EXAMPLE_KEY_PAIR_ID } from '../../schemas/management-examples.js'
import { jsonResponse } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

const DAY = 86400

const ExpiringQuery = Type.Object({
  within_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, description: 'How far ahead to look, in days; default 30.' })),
}, { additionalProperties: false })

const ExpiringKeyPairs = Type.Object({
  items: Type.Array(Type.Object({
    client_id: keyPairId('The key pair that expires.'),
    client: Type.String({ description: "Its client's own id, as in /clients/{id}." }),
    client_name: Type.String(),
    expires_at: Type.String({ description: 'When it expires: it is refused from then on.' }),
  }, { additionalProperties: false }), { description: 'Soonest first.' }),
}, { additionalProperties: false })

/** The account's key pairs that expire soon: what the dashboard's banner lists. */
export async function expiringKeyPairRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/key-pairs/expiring', {
    config: { requiredScope: 'keymint:clients:read' },
    schema: {
      operationId: 'listExpiringKeyPairs',
      summary: 'List key pairs that expire soon',
      description: "The caller's account's key pairs that still work and expire within `within_days` (default 30), soonest first. Reminders go out 30, 7 and 1 days before (audit log, `key_pair.expiring` webhooks).",
      tags: ['key pairs'],
      querystring: ExpiringQuery,
      response: {
        200: jsonResponse('The key pairs.', ExpiringKeyPairs, {
          items: [{ client_id: EXAMPLE_KEY_PAIR_ID, client: '9b2e4c71-5a3d-4f08-b6e2-7c1d0a9f3e65', client_name: 'billing-sync', expires_at: '2025-04-15T09:30:00.000Z' }],
        }),
        ...problemResponses,
      },
    },
  }, async (request) => {
    const pairs = await listExpiringKeyPairs(deps, { accountId: callerOf(request).accountId, withinSeconds: (request.query.within_days ?? 30) * DAY })
    return { items: pairs.map((p) => ({ client_id: p.keyPairId, client: p.clientId, client_name: p.clientName, expires_at: p.expiresAt.toISOString() })) }
  })
}
