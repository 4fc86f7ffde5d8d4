import type { FastifyInstance } from 'fastify'
import { createUser, getUser, updateUser } from '../../../domain/users.js'
import { presentUser } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { ownedByCaller } from './account-boundary.js'
import type { ManagementDeps } from './management-deps.js'
import * as s from './schemas.js'

/** The account's users: list, create, change permissions, scopes and whether they are disabled. */
export async function userRoutes(app: FastifyInstance, deps: ManagementDeps): Promise<void> {
  app.get('/users', { config: { requiredScope: 'keymint:users:read' }, schema: { tags: ['users'], response: { 200: s.list(s.user), ...s.errorResponses } } },
    async (request) => ({ items: (await deps.store.users.listByAccount(callerOf(request).accountId)).map(presentUser) }))

  app.post('/users', {
    config: { requiredScope: 'keymint:users:write' },
    schema: {
      tags: ['users'],
      body: {
        type: 'object', additionalProperties: false, required: ['email'],
        properties: {
          email: { type: 'string', maxLength: 254 }, role: { enum: ['admin', 'member'] },
          permissions: { type: 'array', items: { enum: ['ui', 'api'] } }, scopes: { type: 'array', maxItems: 200, items: { type: 'string', maxLength: 128 } },
        },
      },
      response: { 201: s.user, ...s.errorResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const body = request.body as { email: string; role?: string; permissions?: string[]; scopes?: string[] }
    const user = await createUser(deps, { accountId: caller.accountId, ...body, actor: caller.actor, authority: caller })
    return reply.status(201).send(presentUser(user))
  })

  app.patch('/users/:id', {
    config: { requiredScope: 'keymint:users:write' },
    schema: {
      tags: ['users'],
      params: s.uuidParam,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          permissions: { type: 'array', items: { enum: ['ui', 'api'] } }, scopes: { type: 'array', maxItems: 200, items: { type: 'string', maxLength: 128 } },
          disabled: { type: 'boolean' },
        },
      },
      response: { 200: s.user, ...s.errorResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const { id } = request.params as { id: string }
    ownedByCaller(caller, await getUser(deps.store, id), 'user')
    const body = request.body as { permissions?: string[]; scopes?: string[]; disabled?: boolean }
    return presentUser(await updateUser(deps, { userId: id, ...body, actor: caller.actor, authority: caller }))
  })
}
