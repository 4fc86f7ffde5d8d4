import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { getClient } from '../../../domain/clients.js'
import { listKeyPairs, revokeKeyPair, revokeKeyPairs, rotateKeyPair } from '../../../domain/key-pairs.js'
import { presentIssuedKeyPair, presentKeyPair } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { keyPairId } from '../../schemas/key-pair-id.js'
import { ClientIdParams, IssuedKeyPair, itemsOf, KeyPair, keyExpiresIn } from '../../schemas/management.js'
import { EXAMPLE_KEY_PAIR_ID, exampleIssuedKeyPair, exampleKeyPair } from '../../schemas/management-examples.js'
import { jsonResponse, refTo } from '../../schemas/schema-helpers.js'
import { ownedByCaller } from './account-boundary.js'
import type { ManagementDeps } from './management-deps.js'

const Rotation = Type.Object({
  grace_seconds: Type.Optional(Type.Integer({ minimum: 0, description: 'How long the key pairs this rotation ends keep working; default 0: they stop now.' })),
  key_expires_in_seconds: Type.Optional(keyExpiresIn("Default: the account's `default_key_expires_in_seconds`.")),
}, { additionalProperties: false, examples: [{ grace_seconds: 3600 }, { grace_seconds: 3600, key_expires_in_seconds: 7776000 }] })

const Rotated = Type.Object({
  key_pair: refTo(IssuedKeyPair),
  ended: Type.Array(Type.Object({
    client_id: keyPairId('A key pair this rotation ended.'),
    ends_at: Type.String({ description: 'When it stops working.' }),
  }), { description: 'The key pairs this rotation ended.' }),
}, { additionalProperties: false })

const Revoked = Type.Object({
  revoked: Type.Array(keyPairId(), { description: 'The `client_id`s of the key pairs revoked.' }),
}, { additionalProperties: false })

const KeyPairParams = Type.Object({
  id: ClientIdParams.properties.id,
  client_id: Type.String({ format: 'uuid', description: "The key pair's `client_id`." }),
}, { additionalProperties: false })

const NEW_SECRET_AT = '2025-03-01T08:00:00.000Z'

/**
 * A client's key pairs: list, rotate, revoke. A key pair's id is the `client_id` an integration
 * presents; the client's own id (in the path) never appears on the token endpoints.
 */
export async function keyPairRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/clients/:id/key-pairs', {
    config: { requiredScope: 'keymint:clients:read' },
    schema: {
      operationId: 'listKeyPairs',
      summary: "List a client's key pairs",
      description: "The client's key pairs, live and ended, with their usage; never a secret.",
      tags: ['key pairs'],
      params: ClientIdParams,
      response: { 200: jsonResponse('The key pairs.', itemsOf(refTo(KeyPair)), { items: [exampleKeyPair] }), ...problemResponses },
    },
  }, async (request) => {
    const client = ownedByCaller(callerOf(request), await getClient(deps, request.params.id), 'client')
    return { items: (await listKeyPairs(deps, { clientId: client.id })).keyPairs.map(presentKeyPair) }
  })

  app.post('/clients/:id/key-pairs', {
    config: { requiredScope: 'keymint:keys:write' },
    schema: {
      operationId: 'rotateKeyPair',
      summary: "Rotate a client's key pair",
      description: 'Issues a new key pair (a new `client_id` and secret, shown in this response only) and ends the live ones, at once or after `grace_seconds`. The new pair expires after `key_expires_in_seconds`, else as the account\'s settings say. The body may be left out.',
      tags: ['key pairs'],
      params: ClientIdParams,
      body: Rotation,
      response: {
        201: jsonResponse('The new key pair, and the ones it ended.', Rotated, {
          key_pair: { ...exampleIssuedKeyPair, client_id: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b', created_at: NEW_SECRET_AT },
          ended: [{ client_id: EXAMPLE_KEY_PAIR_ID, ends_at: '2025-03-01T09:00:00.000Z' }],
        }),
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const client = ownedByCaller(caller, await getClient(deps, request.params.id), 'client')
    const { grace_seconds: grace, key_expires_in_seconds: keyExpiresIn } = request.body
    const rotated = await rotateKeyPair(deps, {
      clientId: client.id, actor: caller.actor, authority: caller,
      ...(grace === undefined ? {} : { graceSeconds: grace }),
      ...(keyExpiresIn === undefined ? {} : { keyExpiresIn }),
    })
    reply.header('cache-control', 'no-store')
    return reply.status(201).send({
      key_pair: presentIssuedKeyPair(rotated.keyPair),
      ended: rotated.ended.map((ended) => ({ client_id: ended.id, ends_at: ended.endsAt.toISOString() })),
    })
  })

  app.delete('/clients/:id/key-pairs', {
    config: { requiredScope: 'keymint:keys:write' },
    schema: {
      operationId: 'revokeKeyPairs',
      summary: "Revoke a client's key pairs",
      description: "Revokes every live key pair of the client: their tokens stop being accepted (introspection, the revocation feed). The client stays; rotate to give it a new key pair.",
      tags: ['key pairs'],
      params: ClientIdParams,
      response: { 200: jsonResponse('The key pairs revoked.', Revoked, { revoked: [EXAMPLE_KEY_PAIR_ID] }), ...problemResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const client = ownedByCaller(caller, await getClient(deps, request.params.id), 'client')
    return { revoked: (await revokeKeyPairs(deps, { clientId: client.id, actor: caller.actor, authority: caller })).revoked }
  })

  app.delete('/clients/:id/key-pairs/:client_id', {
    config: { requiredScope: 'keymint:keys:write' },
    schema: {
      operationId: 'revokeKeyPair',
      summary: 'Revoke one key pair of a client',
      description: "Revokes one key pair now, such as the old pair of a rotation still in its grace (ending the grace early); the client's other pairs keep working. Its tokens stop being accepted. `revoked` is empty when the pair had stopped working already.",
      tags: ['key pairs'],
      params: KeyPairParams,
      response: { 200: jsonResponse('The key pair revoked.', Revoked, { revoked: [EXAMPLE_KEY_PAIR_ID] }), ...problemResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const client = ownedByCaller(caller, await getClient(deps, request.params.id), 'client')
    return { revoked: (await revokeKeyPair(deps, { clientId: client.id, keyPairId: request.params.client_id, actor: caller.actor, authority: caller })).revoked }
  })
}
