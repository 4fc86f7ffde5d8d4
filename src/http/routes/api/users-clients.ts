import type { FastifyInstance } from 'fastify'
import { getAccount } from '../../../domain/accounts.js'
import { createClient, getClient, updateClient } from '../../../domain/clients.js'
import { NotFound } from '../../../domain/errors.js'
import { listKeyPairs, revokeKeyPairs, rotateKeyPair } from '../../../domain/key-pairs.js'
import type { Clock, SecretService, Store } from '../../../domain/ports.js'
import type { AccountId } from '../../../domain/types.js'
import { createUser, getUser, updateUser } from '../../../domain/users.js'
import { callerOf, type ApiCaller } from '../../api-auth.js'
import { presentAccount, presentClient, presentIssuedKeyPair, presentKeyPair, presentUser } from '../../../contract/dto.js'
import * as s from './schemas.js'

export interface ManagementDeps {
  readonly store: Store
  readonly clock: Clock
  readonly secrets: SecretService
  /** keymint's own default `aud` values, which no account may register as an API. */
  readonly defaultAudiences: () => readonly string[]
}

/** Anything of another account is reported as not found: its existence is not the caller's business. */
function ownedBy<T extends { accountId: AccountId }>(caller: ApiCaller, record: T, what: 'user' | 'client'): T {
  if (record.accountId !== caller.accountId) {
    throw new NotFound(what === 'user' ? 'KEYMINT_USER_NOT_FOUND' : 'KEYMINT_CLIENT_NOT_FOUND', `${what} not found`)
  }
  return record
}

export async function accountUserClientRoutes(app: FastifyInstance, deps: ManagementDeps): Promise<void> {
  app.get('/account', { schema: { tags: ['account'], response: { 200: s.account, ...s.errorResponses } } }, async (request) =>
    presentAccount(await getAccount(deps.store, callerOf(request).accountId)))

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
    ownedBy(caller, await getUser(deps.store, id), 'user')
    const body = request.body as { permissions?: string[]; scopes?: string[]; disabled?: boolean }
    return presentUser(await updateUser(deps, { userId: id, ...body, actor: caller.actor, authority: caller }))
  })

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
    async (request) => presentClient(ownedBy(callerOf(request), await getClient(deps, (request.params as { id: string }).id), 'client')))

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
    const client = ownedBy(caller, await getClient(deps, (request.params as { id: string }).id), 'client')
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

  app.get('/clients/:id/key-pairs', {
    config: { requiredScope: 'keymint:clients:read' },
    schema: { tags: ['key pairs'], params: s.uuidParam, response: { 200: s.list(s.keyPair), ...s.errorResponses } },
  }, async (request) => {
    const client = ownedBy(callerOf(request), await getClient(deps, (request.params as { id: string }).id), 'client')
    return { items: (await listKeyPairs(deps, { clientId: client.id })).keyPairs.map(presentKeyPair) }
  })

  app.post('/clients/:id/key-pairs', {
    config: { requiredScope: 'keymint:keys:write' },
    schema: {
      tags: ['key pairs'],
      params: s.uuidParam,
      body: { type: 'object', additionalProperties: false, properties: { grace_seconds: { type: 'integer', minimum: 0 } } },
      response: { 201: { type: 'object', additionalProperties: false, properties: { key_pair: s.issuedKeyPair, ended: { type: 'array', items: { type: 'object', properties: { client_id: { type: 'string' }, ends_at: { type: 'string' } } } } } }, ...s.errorResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const client = ownedBy(caller, await getClient(deps, (request.params as { id: string }).id), 'client')
    const grace = (request.body as { grace_seconds?: number } | undefined)?.grace_seconds
    const rotated = await rotateKeyPair(deps, { clientId: client.id, actor: caller.actor, authority: caller, ...(grace === undefined ? {} : { graceSeconds: grace }) })
    reply.header('cache-control', 'no-store')
    return reply.status(201).send({ key_pair: presentIssuedKeyPair(rotated.keyPair), ended: rotated.ended.map((e) => ({ client_id: e.id, ends_at: e.endsAt.toISOString() })) })
  })

  app.delete('/clients/:id/key-pairs', {
    config: { requiredScope: 'keymint:keys:write' },
    schema: { tags: ['key pairs'], params: s.uuidParam, response: { 200: { type: 'object', additionalProperties: false, properties: { revoked: { type: 'array', items: { type: 'string' } } } }, ...s.errorResponses } },
  }, async (request) => {
    const caller = callerOf(request)
    const client = ownedBy(caller, await getClient(deps, (request.params as { id: string }).id), 'client')
    return { revoked: (await revokeKeyPairs(deps, { clientId: client.id, actor: caller.actor, authority: caller })).revoked }
  })
}
