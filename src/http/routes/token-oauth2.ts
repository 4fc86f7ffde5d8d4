import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { InvalidRequest, UnsupportedGrantType } from '../../oauth/errors.js'
import { grantClientCredentials } from '../../oauth/grants/client-credentials.js'
import { authenticateRequestClient } from '../calling-client.js'
import { acceptFormOnly, readMissingBodyAsEmptyForm } from '../body-media-type.js'
import { readOAuth2Credentials } from '../credentials.js'
import { requestedResource } from '../requested-resource.js'
import { oauthErrorResponses } from '../schemas/errors.js'
import { TokenRequestForm, TokenResponse } from '../schemas/oauth.js'
import { EXAMPLE_ACCESS_TOKEN } from '../schemas/oauth-examples.js'
import { jsonResponse, refTo } from '../schemas/schema-helpers.js'
import { audienceOf, type TokenEndpointDeps } from './token-endpoint-deps.js'

const URL = '/oauth2/token'

/** RFC 6749 §4.4 token endpoint, at `/oauth2/token` and `/oauth2/token/` (second seed's form). */
export async function oauth2TokenEndpointRoutes(fastify: FastifyInstance, deps: TokenEndpointDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  for (const url of [URL, `${URL}/`]) {
    app.post(url, {
      config: { errorFormat: 'oauth' },
      onRequest: acceptFormOnly,
      preValidation: readMissingBodyAsEmptyForm,
      schema: {
        // The trailing-slash twin is the same operation: documented once.
        ...(url === URL ? {} : { hide: true }),
        operationId: 'requestToken',
        summary: 'Get an access token (client credentials)',
        description: 'RFC 6749 §4.4 client credentials grant. The client authenticates with HTTP Basic (`clientBasic`), with `client_id` and `client_secret` in the form (client_secret_post), or with a client assertion (private_key_jwt, RFC 7523); exactly one. Send `application/x-www-form-urlencoded`; a parameter sent twice is refused.',
        tags: ['oauth2'],
        security: [{ clientBasic: [] }, {}],
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenRequestForm,
        response: {
          200: jsonResponse('The access token.', refTo(TokenResponse), { access_token: EXAMPLE_ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600, scope: 'orders:read' }),
          ...oauthErrorResponses,
        },
      },
    }, async (request, reply) => {
      const form = request.body
      if (form.grant_type === undefined) throw new InvalidRequest('grant_type is required')
      if (form.grant_type !== 'client_credentials') {
        throw new UnsupportedGrantType('only grant_type=client_credentials is supported')
      }
      const credential = await authenticateRequestClient(deps.auth, request, readOAuth2Credentials(request, form))
      const token = await grantClientCredentials(deps.grant, {
        credential,
        ...(form.scope === undefined ? {} : { scope: form.scope }),
        issuer: deps.issuer(),
        ...requestedResource(form),
        audience: audienceOf(deps),
        defaultLifetimeSeconds: deps.tokens.oauth2LifetimeSeconds,
      })
      deps.issued('oauth2')
      // RFC 6749 §5.1: responses carrying tokens must not be cached.
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      return { access_token: token.accessToken, token_type: 'Bearer' as const, expires_in: token.expiresIn, scope: token.scope }
    })
  }
}
