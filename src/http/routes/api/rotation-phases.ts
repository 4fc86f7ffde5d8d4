import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { getClient } from '../../../domain/clients.js'
import { cancelRotation, finishRotation } from '../../../domain/rotation-phases.js'
import { callerOf } from '../../api-auth.js'
import { problem, problemResponses } from '../../schemas/errors.js'
import { keyPairId } from '../../schemas/key-pair-id.js'
import { ClientIdParams } from '../../schemas/management.js'
import { EXAMPLE_KEY_PAIR_ID } from '../../schemas/management-examples.js'
import { jsonResponse } from '../../schemas/schema-helpers.js'
import { ownedByCaller } from './account-boundary.js'
import type { ManagementDeps } from './management-deps.js'

const NEW_KEY_PAIR_ID = 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b'

const Finished = Type.Object({
  kept: keyPairId('The newest key pair: the only one that still works.'),
  revoked: Type.Array(keyPairId(), { description: 'The `client_id`s of the older key pairs whose grace ended now.' }),
}, { additionalProperties: false })

const Cancelled = Type.Object({
  revoked: Type.Array(keyPairId(), { description: 'The `client_id` of the newest key pair, revoked.' }),
  restored: keyPairId('The key pair it replaced: active again, with no end.'),
}, { additionalProperties: false })

const noRotation = problem('No rotation is in progress: no older key pair is in a grace period (the client was rotated without one, its grace ended, or it was finished, cancelled or revoked).', {
  title: 'invalid_state', status: 409, code: 'KEYMINT_NO_ROTATION_IN_PROGRESS',
  detail: 'client 7d444840-9dc0-41f5-8d0a-95e4a5ee2c1b has no rotation in progress: no older pair is in a grace period (there was none, or it ended)',
})

/**
 * The second phase of a rotation with a grace (`POST …/key-pairs` with `grace_seconds`): finish
 * it now, or cancel it and go back to the pair it replaced.
 */
export async function rotationPhaseRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/clients/:id/key-pairs/finish', {
    config: { requiredScope: 'keymint:keys:write' },
    schema: {
      operationId: 'finishKeyPairRotation',
      summary: "Finish a client's key pair rotation",
      description: 'Ends the grace of a rotation now: every older key pair stops working (its tokens stop being accepted) and only the newest stays. The body may be left out.',
      tags: ['key pairs'],
      params: ClientIdParams,
      response: {
        200: jsonResponse('The key pair kept, and those revoked.', Finished, { kept: NEW_KEY_PAIR_ID, revoked: [EXAMPLE_KEY_PAIR_ID] }),
        ...problemResponses,
        409: noRotation,
      },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const client = ownedByCaller(caller, await getClient(deps, request.params.id), 'client')
    const finished = await finishRotation(deps, { clientId: client.id, actor: caller.actor, authority: caller })
    return { kept: finished.kept, revoked: finished.revoked }
  })

  app.post('/clients/:id/key-pairs/cancel', {
    config: { requiredScope: 'keymint:keys:write' },
    schema: {
      operationId: 'cancelKeyPairRotation',
      summary: "Cancel a client's key pair rotation",
      description: 'Undoes a rotation still in its grace: the newest key pair is revoked at once, and the key pair it replaced works again with no end. Key pairs older still keep their grace. The body may be left out.',
      tags: ['key pairs'],
      params: ClientIdParams,
      response: {
        200: jsonResponse('The key pair revoked, and the one active again.', Cancelled, { revoked: [NEW_KEY_PAIR_ID], restored: EXAMPLE_KEY_PAIR_ID }),
        ...problemResponses,
        409: noRotation,
      },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const client = ownedByCaller(caller, await getClient(deps, request.params.id), 'client')
    const cancelled = await cancelRotation(deps, { clientId: client.id, actor: caller.actor, authority: caller })
    return { revoked: [cancelled.revoked], restored: cancelled.restored }
  })
}
