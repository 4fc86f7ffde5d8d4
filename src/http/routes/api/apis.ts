import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { KEY_MANAGEMENT_ALGS } from '../../../crypto/encryption-public-keys.js'
import { createApi } from '../../../domain/apis.js'
import { presentApi } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { Api, itemsOf } from '../../schemas/management.js'
import { exampleApi } from '../../schemas/management-examples.js'
import { jsonResponse, refTo } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

const NewApi = Type.Object({
  identifier: Type.String({ maxLength: 2048, description: 'The URI tokens for the API carry in `aud`; unique across accounts' }),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  encryption_key: Type.Optional(Type.String({ maxLength: 20000, description: "PEM or JWK text of the API's public key: every token for the API is then encrypted to it" })),
  encryption_alg: Type.Optional(Type.Enum(KEY_MANAGEMENT_ALGS, { description: 'default: RSA-OAEP-256 for RSA keys, ECDH-ES for EC and X25519 keys' })),
}, { additionalProperties: false, examples: [{ identifier: 'https://orders.example.com', name: 'Orders' }] })

/** The account's registered APIs (resource servers): list, register. */
export async function apiRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/apis', {
    config: { requiredScope: 'keymint:apis:read' },
    schema: {
      operationId: 'listApis',
      summary: 'List registered APIs',
      description: "The APIs (resource servers) registered for the caller's account.",
      tags: ['apis'],
      response: { 200: jsonResponse('The APIs.', itemsOf(refTo(Api)), { items: [exampleApi] }), ...problemResponses },
    },
  }, async (request) => ({ items: (await deps.store.apis.listByAccount(callerOf(request).accountId)).map(presentApi) }))

  app.post('/apis', {
    config: { requiredScope: 'keymint:apis:write' },
    schema: {
      operationId: 'registerApi',
      summary: 'Register an API',
      description: "Registers an API identifier for the caller's account (409 if another account holds it; keymint's default audience cannot be registered). With `encryption_key`, every token for the API is encrypted to the API's own public key.",
      tags: ['apis'],
      body: NewApi,
      response: { 201: jsonResponse('The API, registered.', refTo(Api), exampleApi), ...problemResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const b = request.body
    const created = await createApi({ store: deps.store, clock: deps.clock, defaultAudiences: deps.defaultAudiences() }, {
      accountId: caller.accountId, identifier: b.identifier, actor: caller.actor,
      ...(b.name === undefined ? {} : { name: b.name }),
      ...(b.encryption_key === undefined ? {} : { encryptionKey: b.encryption_key }),
      ...(b.encryption_alg === undefined ? {} : { encryptionAlg: b.encryption_alg }),
    })
    return reply.status(201).send(presentApi(created))
  })
}
