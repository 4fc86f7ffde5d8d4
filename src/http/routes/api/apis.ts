import type { FastifyInstance } from 'fastify'
import { KEY_MANAGEMENT_ALGS } from '../../../crypto/encryption-public-keys.js'
import { createApi } from '../../../domain/apis.js'
import { presentApi } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import type { ManagementDeps } from './management-deps.js'
import * as s from './schemas.js'

const api = {
  type: 'object', additionalProperties: false,
  properties: {
    id: { type: 'string' }, account_id: { type: 'string' }, identifier: { type: 'string' }, name: { type: 'string' },
    encryption_kid: { type: ['string', 'null'], description: "RFC 7638 thumbprint of the API's public encryption key: the `kid` of its tokens' JWE header" },
    encryption_alg: { type: ['string', 'null'], enum: [...KEY_MANAGEMENT_ALGS, null] },
    created_at: { type: 'string' },
  },
} as const

/** The account's registered APIs (resource servers): list, register. */
export async function apiRoutes(app: FastifyInstance, deps: ManagementDeps): Promise<void> {
  app.get('/apis', { config: { requiredScope: 'keymint:apis:read' }, schema: { tags: ['apis'], response: { 200: s.list(api), ...s.errorResponses } } },
    async (request) => ({ items: (await deps.store.apis.listByAccount(callerOf(request).accountId)).map(presentApi) }))

  app.post('/apis', {
    config: { requiredScope: 'keymint:apis:write' },
    schema: {
      tags: ['apis'],
      body: {
        type: 'object', additionalProperties: false, required: ['identifier'],
        properties: {
          identifier: { type: 'string', maxLength: 2048 }, name: { type: 'string', maxLength: 200 },
          encryption_key: { type: 'string', maxLength: 20000, description: "PEM or JWK text of the API's public key: every token for the API is then encrypted to it" },
          encryption_alg: { enum: KEY_MANAGEMENT_ALGS, description: 'default: RSA-OAEP-256 for RSA keys, ECDH-ES for EC and X25519 keys' },
        },
      },
      response: { 201: api, ...s.errorResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const b = request.body as { identifier: string; name?: string; encryption_key?: string; encryption_alg?: string }
    const created = await createApi({ store: deps.store, clock: deps.clock, defaultAudiences: deps.defaultAudiences() }, {
      accountId: caller.accountId, identifier: b.identifier, actor: caller.actor,
      ...(b.name === undefined ? {} : { name: b.name }),
      ...(b.encryption_key === undefined ? {} : { encryptionKey: b.encryption_key }),
      ...(b.encryption_alg === undefined ? {} : { encryptionAlg: b.encryption_alg }),
    })
    return reply.status(201).send(presentApi(created))
  })
}
