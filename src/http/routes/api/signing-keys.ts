import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { serverKeyStates } from '../../../domain/server-keys.js'
import { presentServerKey } from '../../../contract/dto.js'
import { problemResponses } from '../../schemas/errors.js'
import { itemsOf, SigningKey } from '../../schemas/management.js'
import { exampleSigningKey } from '../../schemas/management-examples.js'
import { jsonResponse, refTo } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

/**
 * Server-wide keys: readable by any account's admin (public material only); rotating them is
 * an operator's job on the command line, since it affects every account.
 */
export async function signingKeyRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/signing-keys', {
    config: { requiredScope: 'keymint:admin' },
    schema: {
      operationId: 'listSigningKeys',
      summary: "List the server's keys",
      description: 'The signing and encryption keys of the whole server, with their state; public facts only. Rotating them affects every account, so it stays on the command line (`keymint signing-keys rotate`).',
      tags: ['signing keys'],
      response: { 200: jsonResponse('The keys.', itemsOf(refTo(SigningKey)), { items: [exampleSigningKey] }), ...problemResponses },
    },
  }, async () => {
    const keys = await deps.store.serverKeys.listAll()
    const states = serverKeyStates(keys, deps.clock.now())
    return {
      items: keys.map((k) => presentServerKey(k, states.get(k.kid))),
    }
  })
}
