import type { FastifyInstance } from 'fastify'
import { getAccount } from '../../../domain/accounts.js'
import { presentAccount } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import type { ManagementDeps } from './management-deps.js'
import * as s from './schemas.js'

/** `GET /account`: the caller's own account. */
export async function accountRoutes(app: FastifyInstance, deps: ManagementDeps): Promise<void> {
  app.get('/account', { schema: { tags: ['account'], response: { 200: s.account, ...s.errorResponses } } }, async (request) =>
    presentAccount(await getAccount(deps.store, callerOf(request).accountId)))
}
