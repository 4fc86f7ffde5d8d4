import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { InvalidRequest } from '../../oauth/errors.js'
import { introspectToken } from '../../oauth/introspection.js'
import { acceptFormOnly, readMissingBodyAsEmptyForm } from '../body-media-type.js'
import { authenticateCallingClient } from '../calling-client.js'
import { oauthErrorResponses } from '../schemas/errors.js'
import { IntrospectionResponse, TokenForm } from '../schemas/oauth.js'
import { jsonResponse, refTo } from '../schemas/schema-helpers.js'
import type { TokenStateEndpointDeps } from './token-state-deps.js'

/** RFC 7662 token introspection, for a client of the token's own account. */
export async function introspectionRoutes(fastify: FastifyInstance, deps: TokenStateEndpointDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.post('/oauth2/introspect', {
    config: { errorFormat: 'oauth' },
    onRequest: acceptFormOnly,
    preValidation: readMissingBodyAsEmptyForm,
    schema: {
      operationId: 'introspectToken',
      summary: 'Introspect an access token',
      description: "RFC 7662. The caller authenticates as a client of the token's own account (as at the token endpoint). A token that expired, was revoked, whose key pair or user lost the right to act, or that belongs to another account is `active: false`. Tokens encrypted to keymint's key are opened; for a token encrypted to an API's own key, send the signed token inside.",
      tags: ['oauth2'],
      security: [{ clientBasic: [] }, {}],
      consumes: ['application/x-www-form-urlencoded'],
      body: TokenForm,
      response: {
        200: jsonResponse('The token\'s state.', refTo(IntrospectionResponse), {
          active: true, token_type: 'Bearer', scope: 'orders:read', client_id: 'c7d05e3a-1f9b-4e26-8a4c-5b3f6d2e1a90',
          sub: 'c7d05e3a-1f9b-4e26-8a4c-5b3f6d2e1a90', aud: 'https://orders.example.com', iss: 'https://auth.example.com',
          exp: 1767225600, iat: 1767222000, jti: '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9', account_id: '3f1c9a52-8d0e-4b7a-9c61-2e5d7f0a4b18',
          client_level: 'subscription',
        }),
        ...oauthErrorResponses,
      },
    },
  }, async (request, reply) => {
    const form = request.body
    const caller = await authenticateCallingClient(deps.auth, request, form)
    if (form.token === undefined || form.token === '') throw new InvalidRequest('token is required')
    reply.header('cache-control', 'no-store')
    return introspectToken(deps.tokens, caller, form.token)
  })
}
