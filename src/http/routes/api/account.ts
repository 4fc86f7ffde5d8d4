import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { getAccount } from '../../../domain/accounts.js'
import { presentAccount } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { Account } from '../../schemas/management.js'
import { exampleAccount } from '../../schemas/management-examples.js'
import { jsonResponse, refTo } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

/** `GET /account`: the caller's own account. */
export async function accountRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/account', {
    schema: {
      operationId: 'getAccount',
      summary: "Read the caller's account",
      description: 'The account the access token belongs to.',
      tags: ['account'],
      response: { 200: jsonResponse('The account.', refTo(Account), exampleAccount), ...problemResponses },
    },
  }, async (request) => presentAccount(await getAccount(deps.store, callerOf(request).accountId)))
}
