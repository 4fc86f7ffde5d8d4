import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { createUser, getUser, updateUser } from '../../../domain/users.js'
import { PERMISSIONS, ROLES } from '../../../domain/types.js'
import { presentUser } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { itemsOf, User, UserIdParams } from '../../schemas/management.js'
import { exampleUser } from '../../schemas/management-examples.js'
import { jsonResponse, refTo } from '../../schemas/schema-helpers.js'
import { ownedByCaller } from './account-boundary.js'
import type { ManagementDeps } from './management-deps.js'

const permissions = (description: string) => Type.Array(Type.Enum(PERMISSIONS), { description: `A user-level client obtains tokens only while its user has both \`ui\` and \`api\`.${description}` })
const scopes = Type.Array(Type.String({ maxLength: 128 }), { maxItems: 200, description: "Scopes the user's clients may be granted; `keymint:` scopes need `keymint:admin`." })

const NewUser = Type.Object({
  email: Type.String({ maxLength: 254 }),
  role: Type.Optional(Type.Enum(ROLES, { description: 'Default `member`. Making an admin needs `keymint:admin`.' })),
  permissions: Type.Optional(permissions(' Default: `["ui", "api"]`.')),
  scopes: Type.Optional(scopes),
}, { additionalProperties: false, examples: [{ email: 'ops@example.com', scopes: ['orders:read'] }] })

const UserChange = Type.Object({
  permissions: Type.Optional(permissions('')),
  scopes: Type.Optional(scopes),
  disabled: Type.Optional(Type.Boolean({ description: 'Disabling ends the tokens its clients were issued, for good: enabling the user again revives none.' })),
}, { additionalProperties: false, minProperties: 1, examples: [{ disabled: true }] })

/** The account's users: list, create, change permissions, scopes and whether they are disabled. */
export async function userRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/users', {
    config: { requiredScope: 'keymint:users:read' },
    schema: {
      operationId: 'listUsers',
      summary: 'List users',
      description: "Every user of the caller's account.",
      tags: ['users'],
      response: { 200: jsonResponse('The users.', itemsOf(refTo(User)), { items: [exampleUser] }), ...problemResponses },
    },
  }, async (request) => ({ items: (await deps.store.users.listByAccount(callerOf(request).accountId)).map(presentUser) }))

  app.post('/users', {
    config: { requiredScope: 'keymint:users:write' },
    schema: {
      operationId: 'createUser',
      summary: 'Create a user',
      description: "Adds a user to the caller's account; the email must be unused.",
      tags: ['users'],
      body: NewUser,
      response: { 201: jsonResponse('The user, created.', refTo(User), exampleUser), ...problemResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const user = await createUser(deps, { accountId: caller.accountId, ...request.body, actor: caller.actor, authority: caller })
    return reply.status(201).send(presentUser(user))
  })

  app.patch('/users/:id', {
    config: { requiredScope: 'keymint:users:write' },
    schema: {
      operationId: 'updateUser',
      summary: 'Change a user',
      description: "Changes a user's permissions, scopes, or whether it is disabled; fields left out stay as they are.",
      tags: ['users'],
      params: UserIdParams,
      body: UserChange,
      response: { 200: jsonResponse('The user, changed.', refTo(User), { ...exampleUser, disabled: true }), ...problemResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const { id } = request.params
    ownedByCaller(caller, await getUser(deps.store, id), 'user')
    return presentUser(await updateUser(deps, { userId: id, ...request.body, actor: caller.actor, authority: caller }))
  })
}
