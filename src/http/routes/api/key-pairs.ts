import type { FastifyInstance } from 'fastify'
import { getClient } from '../../../domain/clients.js'
import { listKeyPairs, revokeKeyPairs, rotateKeyPair } from '../../../domain/key-pairs.js'
import { presentIssuedKeyPair, presentKeyPair } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { ownedByCaller } from './account-boundary.js'
import type { ManagementDeps } from './management-deps.js'
import * as s from './schemas.js'

/**
 * A client's key pairs: list, rotate, revoke. A key pair's id is the `client_id` an integration
 * presents; the client's own id (in the path) never appears on the token endpoints.
 */
export async function keyPairRoutes(app: FastifyInstance, deps: ManagementDeps): Promise<void> {
  app.get('/clients/:id/key-pairs', {
    config: { requiredScope: 'keymint:clients:read' },
    schema: { tags: ['key pairs'], params: s.uuidParam, response: { 200: s.list(s.keyPair), ...s.errorResponses } },
  }, async (request) => {
    const client = ownedByCaller(callerOf(request), await getClient(deps, (request.params as { id: string }).id), 'client')
    return { items: (await listKeyPairs(deps, { clientId: client.id })).keyPairs.map(presentKeyPair) }
  })

  app.post('/clients/:id/key-pairs', {
    config: { requiredScope: 'keymint:keys:write' },
    schema: {
      tags: ['key pairs'],
      params: s.uuidParam,
      body: { type: 'object', additionalProperties: false, properties: { grace_seconds: { type: 'integer', minimum: 0 } } },
      response: { 201: { type: 'object', additionalProperties: false, properties: { key_pair: s.issuedKeyPair, ended: { type: 'array', items: { type: 'object', properties: { client_id: { type: 'string' }, ends_at: { type: 'string' } } } } } }, ...s.errorResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const client = ownedByCaller(caller, await getClient(deps, (request.params as { id: string }).id), 'client')
    const grace = (request.body as { grace_seconds?: number } | undefined)?.grace_seconds
    const rotated = await rotateKeyPair(deps, { clientId: client.id, actor: caller.actor, authority: caller, ...(grace === undefined ? {} : { graceSeconds: grace }) })
    reply.header('cache-control', 'no-store')
    return reply.status(201).send({ key_pair: presentIssuedKeyPair(rotated.keyPair), ended: rotated.ended.map((e) => ({ client_id: e.id, ends_at: e.endsAt.toISOString() })) })
  })

  app.delete('/clients/:id/key-pairs', {
    config: { requiredScope: 'keymint:keys:write' },
    schema: { tags: ['key pairs'], params: s.uuidParam, response: { 200: { type: 'object', additionalProperties: false, properties: { revoked: { type: 'array', items: { type: 'string' } } } }, ...s.errorResponses } },
  }, async (request) => {
    const caller = callerOf(request)
    const client = ownedByCaller(caller, await getClient(deps, (request.params as { id: string }).id), 'client')
    return { revoked: (await revokeKeyPairs(deps, { clientId: client.id, actor: caller.actor, authority: caller })).revoked }
  })
}
