import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { createClient, getClient, updateClient } from '../../../domain/clients.js'
import { CLIENT_LEVELS, LIMIT_MODES } from '../../../domain/types.js'
import { presentClient, presentIssuedKeyPair } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import {
  Client, ClientIdParams, IssuedKeyPair, itemsOf, keyExpiresIn, Quota, QUOTA_DESCRIPTION, QUOTA_MODE_DESCRIPTION, RateLimit, RATE_LIMIT_DESCRIPTION,
} from '../../schemas/management.js'
import { exampleClient, exampleIssuedKeyPair } from '../../schemas/management-examples.js'
import { jsonResponse, Nullable, refTo, StringEnum } from '../../schemas/schema-helpers.js'
import { ownedByCaller } from './account-boundary.js'
import type { ManagementDeps } from './management-deps.js'

const name = Type.String({ maxLength: 200 })
const scopes = (description: string) => Type.Array(Type.String({ maxLength: 128 }), { maxItems: 200, description: `Scopes the client may be granted; \`keymint:\` scopes need \`keymint:admin\`. ${description}` })
const publicKey = (description: string) => Type.String({ maxLength: 20000, description: `PEM or JWK text of the public key for \`private_key_jwt\`${description}` })

const NewClient = Type.Object({
  name,
  level: Type.Enum(CLIENT_LEVELS, { description: '`subscription`: acts for the account; `user`: acts as `user_id`.' }),
  user_id: Type.Optional(Type.String({ format: 'uuid', description: 'The user a user-level client acts as.' })),
  scopes: Type.Optional(scopes('Default: unrestricted.')),
  lifetime_seconds: Type.Optional(Type.Integer({ description: "Token lifetime; default: the endpoint's." })),
  token_encryption: Type.Optional(Type.String({ description: 'Encrypt every token of the client with this JWE algorithm (`RSA-OAEP-256`, `RSA-OAEP-384`, `RSA-OAEP-512`).' })),
  public_key: Type.Optional(publicKey('.')),
  signing_alg: Type.Optional(Type.String({ description: "Signing algorithm of the client's tokens (`RS256`, `PS256`, `ES256`, `EdDSA`)." })),
  allow_secret: Type.Optional(Type.Boolean({ description: 'Whether its secret authenticates it; default: true unless `public_key` is given.' })),
  require_dpop: Type.Optional(Type.Boolean({ description: 'Tokens only with a DPoP proof (RFC 9449); default false.' })),
  rate_limit: Type.Optional(Nullable(RateLimit, RATE_LIMIT_DESCRIPTION)),
  quota: Type.Optional(Nullable(Quota, QUOTA_DESCRIPTION)),
  quota_mode: Type.Optional(StringEnum(LIMIT_MODES, { description: `${QUOTA_MODE_DESCRIPTION} Default: \`enforce\`.` })),
  key_expires_in_seconds: Type.Optional(keyExpiresIn("Of its first key pair; default: the account's `default_key_expires_in_seconds`.")),
}, { additionalProperties: false, examples: [{ name: 'billing-sync', level: 'subscription', scopes: ['orders:read'], rate_limit: { requests: 600, per: 'minute' } }, { name: 'nightly-export', level: 'subscription', key_expires_in_seconds: 7776000 }] })

const ClientChange = Type.Object({
  name: Type.Optional(name),
  scopes: Type.Optional(Nullable(scopes('null: unrestricted.'))),
  lifetime_seconds: Type.Optional(Nullable(Type.Integer({ description: "null: the endpoint's default." }))),
  token_encryption: Type.Optional(Nullable(Type.String({ description: 'null: signed tokens only.' }))),
  public_key: Type.Optional(Nullable(publicKey('; changing it needs `keymint:admin`.'))),
  signing_alg: Type.Optional(Nullable(Type.String({ description: "null: the server's default." }))),
  allow_secret: Type.Optional(Type.Boolean()),
  require_dpop: Type.Optional(Type.Boolean({ description: 'false needs `keymint:admin` (an admin) when it was true.' })),
  rate_limit: Type.Optional(Nullable(RateLimit, RATE_LIMIT_DESCRIPTION)),
  quota: Type.Optional(Nullable(Quota, QUOTA_DESCRIPTION)),
  quota_mode: Type.Optional(StringEnum(LIMIT_MODES, { description: QUOTA_MODE_DESCRIPTION })),
}, { additionalProperties: false, minProperties: 1, examples: [{ scopes: ['orders:read', 'orders:write'] }, { quota: { tokens: 100000, per: 'month' }, quota_mode: 'monitor' }] })

const CreatedClient = Type.Object({ client: refTo(Client), key_pair: refTo(IssuedKeyPair) }, { additionalProperties: false })

/** The account's clients: list, create (with a first key pair), read, change. */
export async function clientRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/clients', {
    config: { requiredScope: 'keymint:clients:read' },
    schema: {
      operationId: 'listClients',
      summary: 'List clients',
      description: "Every client of the caller's account.",
      tags: ['clients'],
      response: { 200: jsonResponse('The clients.', itemsOf(refTo(Client)), { items: [exampleClient] }), ...problemResponses },
    },
  }, async (request) => ({ items: (await deps.store.clients.listByAccount(callerOf(request).accountId)).map(presentClient) }))

  app.post('/clients', {
    config: { requiredScope: 'keymint:clients:write' },
    schema: {
      operationId: 'createClient',
      summary: 'Create a client',
      description: 'Creates a client and its first key pair. The key pair\'s `client_id` and `client_secret` are what the integration authenticates with; the secret is shown in this response only.',
      tags: ['clients'],
      body: NewClient,
      response: {
        201: jsonResponse('The client and its first key pair.', CreatedClient, { client: exampleClient, key_pair: exampleIssuedKeyPair }),
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const b = request.body
    const created = await createClient(deps, {
      accountId: caller.accountId, name: b.name, level: b.level, actor: caller.actor, authority: caller,
      ...(b.user_id === undefined ? {} : { userId: b.user_id }),
      ...(b.scopes === undefined ? {} : { scopes: b.scopes }),
      ...(b.lifetime_seconds === undefined ? {} : { lifetimeSeconds: b.lifetime_seconds }),
      ...(b.token_encryption === undefined ? {} : { tokenEncryption: b.token_encryption }),
      ...(b.public_key === undefined ? {} : { publicKey: b.public_key }),
      ...(b.signing_alg === undefined ? {} : { signingAlg: b.signing_alg }),
      ...(b.key_expires_in_seconds === undefined ? {} : { keyExpiresIn: b.key_expires_in_seconds }),
      ...(b.allow_secret === undefined ? {} : { allowSecret: b.allow_secret }),
      ...(b.require_dpop === undefined ? {} : { requireDPoP: b.require_dpop }),
      ...(b.rate_limit === undefined ? {} : { rateLimit: b.rate_limit }),
      ...(b.quota === undefined ? {} : { quota: b.quota }),
      ...(b.quota_mode === undefined ? {} : { quotaMode: b.quota_mode }),
    })
    reply.header('cache-control', 'no-store')
    return reply.status(201).send({ client: presentClient(created.client), key_pair: presentIssuedKeyPair(created.keyPair) })
  })

  app.get('/clients/:id', {
    config: { requiredScope: 'keymint:clients:read' },
    schema: {
      operationId: 'getClient',
      summary: 'Read a client',
      description: 'One client of the caller\'s account, by its own id (not by a key pair\'s `client_id`).',
      tags: ['clients'],
      params: ClientIdParams,
      response: { 200: jsonResponse('The client.', refTo(Client), exampleClient), ...problemResponses },
    },
  }, async (request) => presentClient(ownedByCaller(callerOf(request), await getClient(deps, request.params.id), 'client')))

  app.patch('/clients/:id', {
    config: { requiredScope: 'keymint:clients:write' },
    schema: {
      operationId: 'updateClient',
      summary: 'Change a client',
      description: "Changes a client's name, scopes, token lifetime, encryption, public key, signing algorithm, secret authentication, DPoP requirement, rate limit, quota or quota mode; fields left out stay as they are, null restores the default (for a limit: none).",
      tags: ['clients'],
      params: ClientIdParams,
      body: ClientChange,
      response: { 200: jsonResponse('The client, changed.', refTo(Client), { ...exampleClient, scopes: ['orders:read', 'orders:write'] }), ...problemResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const client = ownedByCaller(caller, await getClient(deps, request.params.id), 'client')
    const b = request.body
    return presentClient(await updateClient(deps, {
      clientId: client.id, actor: caller.actor, authority: caller,
      ...(b.name === undefined ? {} : { name: b.name }),
      ...(b.scopes === undefined ? {} : { scopes: b.scopes }),
      ...(b.lifetime_seconds === undefined ? {} : { lifetimeSeconds: b.lifetime_seconds }),
      ...(b.token_encryption === undefined ? {} : { tokenEncryption: b.token_encryption }),
      ...(b.public_key === undefined ? {} : { publicKey: b.public_key }),
      ...(b.signing_alg === undefined ? {} : { signingAlg: b.signing_alg }),
      ...(b.allow_secret === undefined ? {} : { allowSecret: b.allow_secret }),
      ...(b.require_dpop === undefined ? {} : { requireDPoP: b.require_dpop }),
      ...(b.rate_limit === undefined ? {} : { rateLimit: b.rate_limit }),
      ...(b.quota === undefined ? {} : { quota: b.quota }),
      ...(b.quota_mode === undefined ? {} : { quotaMode: b.quota_mode }),
    }))
  })
}
