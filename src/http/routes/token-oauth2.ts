import type { FastifyInstance } from 'fastify'
import { authenticateClient } from '../../oauth/client-auth/authenticate-client.js'
import { InvalidRequest, UnsupportedGrantType } from '../../oauth/errors.js'
import { grantClientCredentials } from '../../oauth/grants/client-credentials.js'
import { acceptFormOnly } from '../body-media-type.js'
import { readOAuth2Credentials } from '../credentials.js'
import type { FormParams } from '../form-body.js'
import { requestedResource } from '../requested-resource.js'
import { audienceOf, type TokenEndpointDeps } from './token-endpoint-deps.js'

const tokenResponse = {
  200: {
    type: 'object',
    additionalProperties: false,
    required: ['access_token', 'token_type', 'expires_in', 'scope'],
    properties: {
      access_token: { type: 'string' },
      token_type: { type: 'string' },
      expires_in: { type: 'integer' },
      scope: { type: 'string' },
    },
  },
} as const

/** RFC 6749 §4.4 token endpoint, at `/oauth2/token` and `/oauth2/token/` (second seed's form). */
export async function oauth2TokenEndpointRoutes(app: FastifyInstance, deps: TokenEndpointDeps): Promise<void> {
  for (const url of ['/oauth2/token', '/oauth2/token/']) {
    app.post(url, {
      config: { errorFormat: 'oauth' },
      onRequest: acceptFormOnly,
      schema: { response: tokenResponse },
    }, async (request, reply) => {
      const form = (request.body ?? {}) as FormParams
      if (form.grant_type === undefined) throw new InvalidRequest('grant_type is required')
      if (form.grant_type !== 'client_credentials') {
        throw new UnsupportedGrantType('only grant_type=client_credentials is supported')
      }
      const credential = await authenticateClient(deps.auth, readOAuth2Credentials(request, form), request.ip)
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
      return { access_token: token.accessToken, token_type: 'Bearer', expires_in: token.expiresIn, scope: token.scope }
    })
  }
}
