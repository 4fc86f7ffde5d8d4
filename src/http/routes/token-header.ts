import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { ClientLevel } from '../../domain/types.js'
import { InvalidRequest } from '../../oauth/errors.js'
import { grantClientCredentials } from '../../oauth/grants/client-credentials.js'
import { parseEncryptedParam } from '../../oauth/token-encryption.js'
import { authenticateRequestClient } from '../calling-client.js'
import { acceptEmptyBodyOrForm, readMissingBodyAsEmptyForm } from '../body-media-type.js'
import { readHeaderCredentials } from '../credentials.js'
import { refuseRepeatedQueryParameter, throwIfInvalid } from '../query-parameters.js'
import { requestedResource } from '../requested-resource.js'
import { oauthErrorResponses } from '../schemas/errors.js'
import { HeaderDialectForm, HeaderDialectHeaders, HeaderDialectQuery } from '../schemas/oauth.js'
import { EXAMPLE_ACCESS_TOKEN } from '../schemas/oauth-examples.js'
import { audienceOf, type TokenEndpointDeps } from './token-endpoint-deps.js'

const ENDPOINTS: readonly { url: string; level: ClientLevel; hint: string; operationId: string; summary: string }[] = [
  { url: '/auth/oauth', level: 'subscription', hint: 'request its token from POST /auth/oidc', operationId: 'requestSubscriptionToken', summary: 'Get a token for a subscription-level client (header dialect)' },
  { url: '/auth/oidc', level: 'user', hint: 'request its token from POST /auth/oauth', operationId: 'requestUserToken', summary: 'Get a token for a user-level client (header dialect)' },
]

/**
 * The header dialect (first seed): credentials in `clientId`/`clientSecret` headers, the
 * bare JWT as `text/plain`. `/auth/oauth` serves subscription-level clients, `/auth/oidc` user-level.
 */
export async function headerDialectTokenRoutes(fastify: FastifyInstance, deps: TokenEndpointDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  for (const endpoint of ENDPOINTS) {
    app.post(endpoint.url, {
      config: { errorFormat: 'oauth' },
      onRequest: acceptEmptyBodyOrForm,
      preValidation: readMissingBodyAsEmptyForm,
      // The handler judges the credential headers, then the query, then lets the schema's verdict stand.
      attachValidation: true,
      schema: {
        operationId: endpoint.operationId,
        summary: endpoint.summary,
        description: `The header dialect: the key pair's \`client_id\` and secret in the \`clientId\` and \`clientSecret\` headers, the token as the bare \`text/plain\` body. For ${endpoint.level}-level clients only (a client of the other level is told to ${endpoint.hint}). The body may be empty, whatever its Content-Type; a non-empty body must be a form.`,
        tags: ['header dialect'],
        security: [],
        consumes: ['application/x-www-form-urlencoded'],
        headers: HeaderDialectHeaders,
        querystring: HeaderDialectQuery,
        body: HeaderDialectForm,
        response: {
          200: { description: 'The access token: a JWT, or a nested JWE when encrypted.', content: { 'text/plain': { schema: Type.String(), example: EXAMPLE_ACCESS_TOKEN } } },
          ...oauthErrorResponses,
        },
      },
    }, async (request, reply) => {
      const form = request.body
      const presented = readHeaderCredentials(request)
      // `encrypted` as a form field (the seed's `--data-urlencode`) or as a query parameter, not both.
      refuseRepeatedQueryParameter(request, 'encrypted', 'encrypted is included more than once')
      throwIfInvalid(request)
      const fromQuery = request.query.encrypted
      if (fromQuery !== undefined && form.encrypted !== undefined) throw new InvalidRequest('encrypted is given in both the query and the body; send it once')
      const encryption = parseEncryptedParam(fromQuery ?? form.encrypted)
      const credential = await authenticateRequestClient(deps.auth, request, presented)
      const token = await grantClientCredentials(deps.grant, {
        credential,
        caller: { address: request.ip, userAgent: request.headers['user-agent'] },
        encryption,
        requiredLevel: { level: endpoint.level, hint: endpoint.hint },
        issuer: deps.issuer(),
        ...requestedResource(form),
        audience: audienceOf(deps),
        defaultLifetimeSeconds: deps.tokens.headerLifetimeSeconds,
        scopesArray: true,
      })
      deps.issued('header')
      return reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(token.accessToken)
    })
  }
}
