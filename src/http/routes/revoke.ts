import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { InvalidRequest } from '../../oauth/errors.js'
import { revokeAccessToken } from '../../oauth/revocation.js'
import { acceptFormOnly, readMissingBodyAsEmptyForm } from '../body-media-type.js'
import { authenticateCallingClient } from '../calling-client.js'
import { oauthErrorResponses } from '../schemas/errors.js'
import { TokenForm } from '../schemas/oauth.js'
import type { TokenStateEndpointDeps } from './token-state-deps.js'

/** RFC 7009 token revocation: one access token of the caller's account; 200 also for unknown tokens. */
export async function revocationRoutes(fastify: FastifyInstance, deps: TokenStateEndpointDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/oauth2/revoke', {
    config: { errorFormat: 'oauth' },
    onRequest: acceptFormOnly,
    preValidation: readMissingBodyAsEmptyForm,
    schema: {
      operationId: 'revokeToken',
      summary: 'Revoke an access token',
      description: "RFC 7009. The caller authenticates as a client of the token's account; the token is refused from then on (introspection, the revocation feed). The answer is 200 with an empty body whether or not the token was known, so it says nothing about other accounts' tokens.",
      tags: ['oauth2'],
      security: [{ clientBasic: [] }, {}],
      consumes: ['application/x-www-form-urlencoded'],
      body: TokenForm,
      response: {
        // No body at all (`type: 'null'` is how the OpenAPI document says so).
        200: Type.Unsafe<undefined>({ type: 'null', description: 'Revoked, or not a token of the caller\'s account: nothing to say either way.' }),
        ...oauthErrorResponses,
      },
    },
  }, async (request, reply) => {
    const form = request.body
    const caller = await authenticateCallingClient(deps.auth, request, form)
    if (form.token === undefined || form.token === '') throw new InvalidRequest('token is required')
    const revoked = await revokeAccessToken(deps.tokens, caller, form.token)
    // Logged under the wire name: the caller's client_id, its key pair's id.
    request.log.info({ callerClientId: caller.keyPair.id, revoked }, 'token revocation requested')
    return reply.status(200).header('cache-control', 'no-store').send(undefined)
  })
}
