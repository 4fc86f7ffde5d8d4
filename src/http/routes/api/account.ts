import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { getAccount } from '../../../domain/accounts.js'
import { setRequireAdminSecondFactor } from '../../../domain/second-factor.js'
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

  app.patch('/account', {
    config: { requiredScope: 'keymint:admin' },
    schema: {
      operationId: 'updateAccount',
      summary: "Change the caller's account settings",
      description: 'Whether every admin must sign in with a second factor.',
      tags: ['account'],
      body: Type.Object({ require_admin_second_factor: Type.Boolean() }, { additionalProperties: false, examples: [{ require_admin_second_factor: true }] }),
      response: { 200: jsonResponse('The account.', refTo(Account), { ...exampleAccount, require_admin_second_factor: true }), ...problemResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    return presentAccount(await setRequireAdminSecondFactor(deps, {
      accountId: caller.accountId, required: request.body.require_admin_second_factor, actor: caller.actor, authority: caller,
    }))
  })
}
