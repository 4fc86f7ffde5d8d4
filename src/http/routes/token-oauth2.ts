import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { authenticateClient, type PresentedCredentials } from '../../oauth/client-auth/authenticate-client.js'
import type { PresentedAssertion } from '../../oauth/client-auth/private-key-jwt.js'
import { InvalidRequest, UnsupportedGrantType } from '../../oauth/errors.js'
import { authenticateWorkload } from '../../oauth/federation/authenticate-workload.js'
import { unverifiedIssuer } from '../../oauth/federation/workload-token.js'
import { grantClientCredentials } from '../../oauth/grants/client-credentials.js'
import { ACCESS_TOKEN_TYPE, grantTokenExchange, TOKEN_EXCHANGE_GRANT } from '../../oauth/grants/token-exchange.js'
import { acceptFormOnly, readMissingBodyAsEmptyForm } from '../body-media-type.js'
import { readOAuth2Credentials } from '../credentials.js'
import { requestedResource } from '../requested-resource.js'
import { oauthErrorResponses } from '../schemas/errors.js'
import { TokenRequestForm, TokenResponse } from '../schemas/oauth.js'
import { EXAMPLE_ACCESS_TOKEN } from '../schemas/oauth-examples.js'
import { jsonResponse, refTo } from '../schemas/schema-helpers.js'
import { audienceOf, type TokenEndpointDeps } from './token-endpoint-deps.js'

const URL = '/oauth2/token'

/**
 * RFC 7523 §2.2: keymint's own client assertions are issued by a client_id (a UUID); a token an
 * issuer named by a URL signed is a platform token, for the trust policies to judge. Anything
 * else stays with private_key_jwt, which refuses it as it always has.
 */
function platformAssertion(presented: PresentedCredentials): PresentedAssertion | undefined {
  if (presented.method !== 'private_key_jwt') return undefined
  const issuer = unverifiedIssuer(presented.assertion)
  return issuer !== undefined && /^https?:\/\//i.test(issuer) ? presented : undefined
}

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
        summary: 'Get an access token (client credentials, or a platform token)',
        description: 'RFC 6749 §4.4 client credentials grant. The client authenticates with HTTP Basic (`clientBasic`), with `client_id` and `client_secret` in the form (client_secret_post), or with a client assertion (private_key_jwt, RFC 7523); exactly one. Send `application/x-www-form-urlencoded`; a parameter sent twice is refused.\n\nWorkload identity federation: a platform token that a trust policy accepts stands in for a key pair, sent either as the client assertion (RFC 7523 §2.2, with `grant_type=client_credentials`; refused with `invalid_client`) or exchanged (RFC 8693, `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` with `subject_token` and `subject_token_type`, no client authentication; refused with `invalid_request`). The token is the policy\'s client\'s, with `client_id` the policy\'s id and the workload in `act: {iss, sub}`.',
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
      const common = {
        ...(form.scope === undefined ? {} : { scope: form.scope }),
        issuer: deps.issuer(),
        ...requestedResource(form),
        audience: audienceOf(deps),
        defaultLifetimeSeconds: deps.tokens.oauth2LifetimeSeconds,
      }
      // RFC 6749 §5.1: responses carrying tokens must not be cached.
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      if (form.grant_type === TOKEN_EXCHANGE_GRANT) {
        if (request.headers.authorization !== undefined || form.client_secret !== undefined || form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
          throw new InvalidRequest('token exchange takes no client credentials: the subject_token is the credential')
        }
        const token = await grantTokenExchange({ auth: deps.workloads, grant: deps.grant }, {
          ...common,
          subjectToken: form.subject_token, subjectTokenType: form.subject_token_type, actorToken: form.actor_token,
          requestedTokenType: form.requested_token_type, policyId: form.client_id,
        }, request.ip)
        deps.issued('oauth2')
        return { access_token: token.accessToken, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer' as const, expires_in: token.expiresIn, scope: token.scope }
      }
      if (form.grant_type !== 'client_credentials') {
        throw new UnsupportedGrantType(`grant_type must be client_credentials or ${TOKEN_EXCHANGE_GRANT}`)
      }
      const presented = readOAuth2Credentials(request, form)
      const platformToken = platformAssertion(presented)
      let token
      if (platformToken) {
        const identity = await authenticateWorkload(deps.workloads, {
          token: platformToken.assertion, role: 'client_assertion', ...(platformToken.clientId === undefined ? {} : { policyId: platformToken.clientId }),
        }, request.ip)
        token = await grantClientCredentials(deps.grant, { credential: identity.credential, actor: identity.actor, ...common })
      } else {
        token = await grantClientCredentials(deps.grant, { credential: await authenticateClient(deps.auth, presented, request.ip), ...common })
      }
      deps.issued('oauth2')
      return { access_token: token.accessToken, token_type: 'Bearer' as const, expires_in: token.expiresIn, scope: token.scope }
    })
  }
}
