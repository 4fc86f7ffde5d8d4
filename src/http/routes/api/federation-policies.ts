import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { presentFederationPolicy } from '../../../contract/dto.js'
import { MAX_ISSUER_KEYS } from '../../../crypto/issuer-jwks.js'
import { createFederationPolicy, deleteFederationPolicy, getFederationPolicy, listFederationPolicies, MAX_MAX_AGE_SECONDS, MIN_MAX_AGE_SECONDS } from '../../../domain/federation-policies.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { itemsOf } from '../../schemas/management.js'
import { jsonResponse, Nullable } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

const EXAMPLE_ID = '6b1f0c3e-2d4a-4e8b-9c7d-1a2b3c4d5e6f'
const EXAMPLE_CLIENT = '0b8e6c1a-7f2d-4e3b-a5c9-8d1e2f3a4b5c'

const Claims = Type.Unsafe<Record<string, string>>({
  type: 'object', additionalProperties: { type: 'string', minLength: 1, maxLength: 512 }, maxProperties: 32,
  description: 'Claims the token must carry with exactly these values (strings; numbers and booleans compare as JSON writes them). A name with `/` reaches into nested objects when no top-level claim has that name: `kubernetes.io/namespace`.',
})

const jwksSchema = {
  required: ['keys'], properties: { keys: { type: 'array', minItems: 1, maxItems: MAX_ISSUER_KEYS, items: { type: 'object', additionalProperties: true } } },
  description: "The issuer's public signing keys (RFC 7517 JWK Set), for issuers keymint cannot reach; without it (null), keys come from the issuer's OpenID discovery document.",
}
const Jwks = Type.Unsafe<{ keys: Record<string, unknown>[] }>({ type: 'object', ...jwksSchema })
const JwksOrNull = Type.Unsafe<{ keys: Record<string, unknown>[] } | null>({ type: ['object', 'null'], ...jwksSchema })

const FederationPolicy = Type.Object({
  id: Type.String({ description: "The policy's id. Tokens issued through it carry it as `client_id`; send it as `client_id` to choose this policy when several accept a token." }),
  account_id: Type.String(),
  client: Type.String({ description: "The client (its own id) whose tokens the workload gets." }),
  issuer: Type.String({ description: 'The `iss` tokens must carry, exactly.' }),
  audience: Type.String({ description: 'A value the tokens\' `aud` must hold.' }),
  subject: Type.String({ description: 'The `sub` tokens must carry: exact, or a glob where `*` matches any run of characters.' }),
  claims: Claims,
  jwks: JwksOrNull,
  max_age_seconds: Nullable(Type.Integer({ description: 'Tokens issued (`iat`) longer ago are refused; null: only their `exp` counts.' })),
  created_at: Type.String(),
}, { additionalProperties: false, description: 'A trust policy: tokens of an external issuer (GitHub Actions, Kubernetes, any OIDC issuer) that stand in for a key pair of one client.' })

const examplePolicy: Static<typeof FederationPolicy> = {
  id: EXAMPLE_ID, account_id: '9a7b5c3d-1e2f-4a6b-8c0d-2e4f6a8b0c1d', client: EXAMPLE_CLIENT,
  issuer: 'https://token.actions.githubusercontent.com', audience: 'https://keymint.example.com', subject: 'repo:acme/deploy:ref:refs/heads/main',
  claims: { workflow: 'release' }, jwks: null, max_age_seconds: 600, created_at: '2025-03-01T08:00:00.000Z',
}

const NewFederationPolicy = Type.Object({
  client: Type.String({ format: 'uuid', description: "The client (its own id, not a key pair's `client_id`) whose tokens the workload gets." }),
  issuer: Type.String({ maxLength: 2048, description: 'The issuer, exactly as tokens carry it in `iss`: an https URL (http to a loopback address only with KEYMINT_FEDERATION_ALLOW_LOOPBACK=true, for development).' }),
  audience: Type.String({ maxLength: 2048, description: "A value the tokens' `aud` must hold: what the workload asks its platform for (GitHub: `&audience=`; Kubernetes: the projected token's `audience`)." }),
  subject: Type.String({ maxLength: 512, description: 'The `sub` tokens must carry: exact, or a glob where `*` matches any run of characters (`repo:acme/deploy:*`). `*` alone is refused.' }),
  claims: Type.Optional(Claims),
  jwks: Type.Optional(Jwks),
  max_age_seconds: Type.Optional(Type.Integer({ minimum: MIN_MAX_AGE_SECONDS, maximum: MAX_MAX_AGE_SECONDS, description: 'Refuse tokens issued (`iat`) longer ago than this.' })),
}, {
  additionalProperties: false,
  examples: [
    { client: EXAMPLE_CLIENT, issuer: 'https://token.actions.githubusercontent.com', audience: 'https://keymint.example.com', subject: 'repo:acme/deploy:ref:refs/heads/main', claims: { workflow: 'release' }, max_age_seconds: 600 },
    { client: EXAMPLE_CLIENT, issuer: 'https://kubernetes.default.svc.cluster.local', audience: 'keymint', subject: 'system:serviceaccount:billing:sync', jwks: { keys: [{ kty: 'RSA', kid: 'k8s-1', n: '…', e: 'AQAB', alg: 'RS256', use: 'sig' }] } },
  ],
})

const PolicyParams = Type.Object({ id: Type.String({ format: 'uuid', description: "The policy's id." }) }, { additionalProperties: false })
const ListQuery = Type.Object({ client: Type.Optional(Type.String({ format: 'uuid', description: "Only this client's policies." })) }, { additionalProperties: false })

/** The account's trust policies for workload identity federation: list, create, read, delete. */
export async function federationPolicyRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // A policy is a credential of its client: managed like key pairs, by admins only.
  const config = { requiredScope: 'keymint:admin' } as const
  app.get('/federation-policies', {
    config,
    schema: {
      operationId: 'listFederationPolicies', summary: 'List trust policies', tags: ['federation'],
      description: "The caller's account's trust policies (workload identity federation), oldest first; `?client=` for one client's.",
      querystring: ListQuery,
      response: { 200: jsonResponse('The policies.', itemsOf(FederationPolicy), { items: [examplePolicy] }), ...problemResponses },
    },
  }, async (request) => {
    const all = await listFederationPolicies(deps, { accountId: callerOf(request).accountId })
    const { client } = request.query
    return { items: all.filter((p) => client === undefined || p.clientId === client).map(presentFederationPolicy) }
  })

  app.post('/federation-policies', {
    config,
    schema: {
      operationId: 'createFederationPolicy', summary: 'Create a trust policy', tags: ['federation'],
      description: "Trusts an external issuer's tokens for one client of the account: a token the issuer signed (asymmetric algorithms only) for `audience`, whose `sub` matches `subject` and which carries `claims`, then gets the client's access tokens at `/oauth2/token`, as the client assertion (RFC 7523) or by token exchange (RFC 8693). Each token works once.",
      body: NewFederationPolicy,
      response: { 201: jsonResponse('The policy.', FederationPolicy, examplePolicy), ...problemResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const b = request.body
    const policy = await createFederationPolicy(deps, {
      accountId: caller.accountId, clientId: b.client, issuer: b.issuer, audience: b.audience, subject: b.subject,
      actor: caller.actor, authority: caller,
      ...(b.claims === undefined ? {} : { claims: b.claims }),
      ...(b.jwks === undefined ? {} : { jwks: b.jwks }),
      ...(b.max_age_seconds === undefined ? {} : { maxAgeSeconds: b.max_age_seconds }),
    })
    return reply.status(201).send(presentFederationPolicy(policy))
  })

  app.get('/federation-policies/:id', {
    config,
    schema: {
      operationId: 'getFederationPolicy', summary: 'Read a trust policy', tags: ['federation'],
      params: PolicyParams,
      response: { 200: jsonResponse('The policy.', FederationPolicy, examplePolicy), ...problemResponses },
    },
  }, async (request) => presentFederationPolicy(await getFederationPolicy(deps, { accountId: callerOf(request).accountId, id: request.params.id })))

  app.delete('/federation-policies/:id', {
    config,
    schema: {
      operationId: 'deleteFederationPolicy', summary: 'Delete a trust policy', tags: ['federation'],
      description: 'No token is issued through the policy any more, and the tokens it led to are refused from now on (introspection at once, the revocation feed for verifiers).',
      params: PolicyParams,
      response: { 204: { description: 'Deleted.', type: 'null' }, ...problemResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    await deleteFederationPolicy(deps, { accountId: caller.accountId, id: request.params.id, actor: caller.actor, authority: caller })
    return reply.status(204).send(null)
  })
}
