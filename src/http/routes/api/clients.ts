import type { FastifyInstance } from 'fastify'
import { createClient, getClient, updateClient } from '../../../domain/clients.js'
import { presentClient, presentIssuedKeyPair } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { ownedByCaller } from './account-boundary.js'
import type { ManagementDeps } from './management-deps.js'
import * as s from './schemas.js'

/** The account's clients: list, create (with a first key pair), read, change. */
export async function clientRoutes(app: FastifyInstance, deps: ManagementDeps): Promise<void> {
  app.get('/clients', { config: { requiredScope: 'keymint:clients:read' }, schema: { tags: ['clients'], response: { 200: s.list(s.client), ...s.errorResponses } } },
    async (request) => ({ items: (await deps.store.clients.listByAccount(callerOf(request).accountId)).map(presentClient) }))

  app.post('/clients', {
    config: { requiredScope: 'keymint:clients:write' },
    schema: {
      tags: ['clients'],
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'level'],
        properties: {
          name: { type: 'string', maxLength: 200 }, level: { enum: ['user', 'subscription'] }, user_id: { type: 'string', format: 'uuid' },
          scopes: { type: 'array', maxItems: 200, items: { type: 'string', maxLength: 128 } }, lifetime_seconds: { type: 'integer' },
          token_encryption: { type: 'string' }, public_key: { type: 'string', maxLength: 20000 }, signing_alg: { type: 'string' },
          allow_secret: { type: 'boolean' },
        },
      },
      response: { 201: { type: 'object', additionalProperties: false, properties: { client: s.client, key_pair: s.issuedKeyPair } }, ...s.errorResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const b = request.body as { name: string; level: string; user_id?: string; scopes?: string[]; lifetime_seconds?: number; token_encryption?: string; public_key?: string; signing_alg?: string; allow_secret?: boolean }
    const created = await createClient(deps, {
      accountId: caller.accountId, name: b.name, level: b.level, actor: caller.actor, authority: caller,
      ...(b.user_id === undefined ? {} : { userId: b.user_id }),
      ...(b.scopes === undefined ? {} : { scopes: b.scopes }),
      ...(b.lifetime_seconds === undefined ? {} : { lifetimeSeconds: b.lifetime_seconds }),
      ...(b.token_encryption === undefined ? {} : { tokenEncryption: b.token_encryption }),
      ...(b.public_key === undefined ? {} : { publicKey: b.public_key }),
      ...(b.signing_alg === undefined ? {} : { signingAlg: b.signing_alg }),
      ...(b.allow_secret === undefined ? {} : { allowSecret: b.allow_secret }),
    })
    reply.header('cache-control', 'no-store')
    return reply.status(201).send({ client: presentClient(created.client), key_pair: presentIssuedKeyPair(created.keyPair) })
  })

  app.get('/clients/:id', { config: { requiredScope: 'keymint:clients:read' }, schema: { tags: ['clients'], params: s.uuidParam, response: { 200: s.client, ...s.errorResponses } } },
    async (request) => presentClient(ownedByCaller(callerOf(request), await getClient(deps, (request.params as { id: string }).id), 'client')))

  app.patch('/clients/:id', {
    config: { requiredScope: 'keymint:clients:write' },
    schema: {
      tags: ['clients'],
      params: s.uuidParam,
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: {
          name: { type: 'string', maxLength: 200 }, scopes: { type: ['array', 'null'], maxItems: 200, items: { type: 'string', maxLength: 128 } },
          lifetime_seconds: { type: ['integer', 'null'] }, token_encryption: { type: ['string', 'null'] },
          public_key: { type: ['string', 'null'], maxLength: 20000 }, signing_alg: { type: ['string', 'null'] },
          allow_secret: { type: 'boolean' },
        },
      },
      response: { 200: s.client, ...s.errorResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const client = ownedByCaller(caller, await getClient(deps, (request.params as { id: string }).id), 'client')
    const b = request.body as { name?: string; scopes?: string[] | null; lifetime_seconds?: number | null; token_encryption?: string | null; public_key?: string | null; signing_alg?: string | null; allow_secret?: boolean }
    return presentClient(await updateClient(deps, {
      clientId: client.id, actor: caller.actor, authority: caller,
      ...(b.name === undefined ? {} : { name: b.name }),
      ...(b.scopes === undefined ? {} : { scopes: b.scopes }),
      ...(b.lifetime_seconds === undefined ? {} : { lifetimeSeconds: b.lifetime_seconds }),
      ...(b.token_encryption === undefined ? {} : { tokenEncryption: b.token_encryption }),
      ...(b.public_key === undefined ? {} : { publicKey: b.public_key }),
      ...(b.signing_alg === undefined ? {} : { signingAlg: b.signing_alg }),
      ...(b.allow_secret === undefined ? {} : { allowSecret: b.allow_secret }),
    }))
  })
}
