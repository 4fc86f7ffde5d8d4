import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { tokenVerdict } from '../../../oauth/token-verdict.js'
import { callerOf, type ApiAuthDeps } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { jsonResponse } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

const REASONS = ['malformed', 'invalid', 'expired', 'other_account', 'revoked', 'key_pair_revoked', 'key_pair_expired', 'client_disabled', 'plan', 'user_not_allowed', 'user_cut_off'] as const

const TokenCheckBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 16_384, description: 'An access token keymint issued, signed or encrypted to its key.' }),
}, { additionalProperties: false })

const TokenCheck = Type.Object({
  active: Type.Boolean({ description: 'Whether keymint accepts the token now (as introspection would answer a client of its account).' }),
  reason: Type.Unsafe<(typeof REASONS)[number] | null>({
    type: ['string', 'null'], enum: [...REASONS, null],
    description: 'Why not: `malformed`, `invalid` (signature, issuer or type), `expired`, `other_account`, `revoked` (the token), `key_pair_revoked` (revoked or grace ended), `key_pair_expired` (the key pair expired), `client_disabled`, `plan`, `user_not_allowed` (disabled, or without `ui` or `api`), `user_cut_off` (lost them after the token was issued). Null when active.',
  }),
  client_id: Type.Union([Type.String(), Type.Null()], { description: 'The key pair it was issued to, when it is an active token of the account.' }),
}, { additionalProperties: false })

/**
 * The dashboard's token tester: whether a token is active, and why not, for the caller's own
 * account. RFC 7662 introspection needs a client's credentials; this asks with the session (or
 * a token) of someone who may read the account's clients, and says no more of another account's
 * token than that it is one.
 */
export async function tokenCheckRoutes(fastify: FastifyInstance, deps: ManagementDeps & { readonly auth: Pick<ApiAuthDeps, 'tokens'> }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/token-checks', {
    config: { requiredScope: 'keymint:clients:read' },
    schema: {
      operationId: 'checkToken',
      summary: 'Check an access token',
      description: "Whether an access token of the caller's account is active, and if not, why: as introspection decides, with the reason it does not give. Nothing is changed.",
      tags: ['key pairs'],
      body: TokenCheckBody,
      response: {
        200: jsonResponse('The verdict.', TokenCheck, { active: false, reason: 'key_pair_revoked', client_id: null }),
        ...problemResponses,
      },
    },
  }, async (request) => {
    const verdict = await tokenVerdict(deps.auth.tokens, request.body.token, callerOf(request).accountId)
    return verdict.active
      ? { active: true, reason: null, client_id: verdict.claims.client_id }
      : { active: false, reason: verdict.reason, client_id: null }
  })
}
