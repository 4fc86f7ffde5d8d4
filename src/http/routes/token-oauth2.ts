import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { PresentedCredentials } from '../../oauth/client-auth/authenticate-client.js'
import type { PresentedAssertion } from '../../oauth/client-auth/private-key-jwt.js'
import { proofOfPossession } from '../../oauth/dpop-binding.js'
import type { AcceptedProof } from '../../oauth/dpop-proof.js'
import { InvalidRequest, UnsupportedGrantType } from '../../oauth/errors.js'
import { unverifiedIssuer } from '../../oauth/federation/workload-token.js'
import { grantClientCredentials } from '../../oauth/grants/client-credentials.js'
import { ACCESS_TOKEN_TYPE, grantTokenExchange, TOKEN_EXCHANGE_GRANT } from '../../oauth/grants/token-exchange.js'
import { grantForWorkload } from '../../oauth/grants/workload-grant.js'
import { authenticateRequestClient } from '../calling-client.js'
import { acceptFormOnly, readMissingBodyAsEmptyForm } from '../body-media-type.js'
import { readDPoPProof, readOAuth2Credentials } from '../credentials.js'
import { requestedResource } from '../requested-resource.js'
import { oauthError, oauthErrorResponses } from '../schemas/errors.js'
import { TokenRequestForm, TokenResponse } from '../schemas/oauth.js'
import { EXAMPLE_ACCESS_TOKEN } from '../schemas/oauth-examples.js'
import { jsonResponse, refTo } from '../schemas/schema-helpers.js'
import { audienceOf, type TokenEndpointDeps } from './token-endpoint-deps.js'

const URL = '/oauth2/token'

const DPoPHeader = Type.Object({
  DPoP: Type.Optional(Type.String({
    description: 'RFC 9449 §4: a DPoP proof (a JWT with `typ: dpop+jwt`, an asymmetric `alg`, the public `jwk` in its header, `htm: POST`, `htu`: this endpoint\'s URL under the issuer, a fresh `iat` and a unique `jti`). The token is then bound to that key (`cnf.jkt`) and `token_type` is `DPoP`. At most one.',
  })),
})

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
      config: { errorFormat: 'oauth', documentedHeaders: DPoPHeader },
      onRequest: acceptFormOnly,
      preValidation: readMissingBodyAsEmptyForm,
      schema: {
        // The trailing-slash twin is the same operation: documented once.
        ...(url === URL ? {} : { hide: true }),
        operationId: 'requestToken',
        summary: 'Get an access token (client credentials, or a platform token)',
        description: 'RFC 6749 §4.4 client credentials grant. The client authenticates with HTTP Basic (`clientBasic`), with `client_id` and `client_secret` in the form (client_secret_post), or with a client assertion (private_key_jwt, RFC 7523); exactly one. Send `application/x-www-form-urlencoded`; a parameter sent twice is refused.\n\nWorkload identity federation: a platform token that a trust policy accepts stands in for a key pair, sent either as the client assertion (RFC 7523 §2.2, with `grant_type=client_credentials`; refused with `invalid_client`) or exchanged (RFC 8693, `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` with `subject_token` and `subject_token_type`, no client authentication; refused with `invalid_request`). The token is the policy\'s client\'s, with `client_id` the policy\'s id and the workload in `act: {iss, sub}`.\n\nWith a `DPoP` header (RFC 9449) the token is sender-constrained: it carries `cnf.jkt`, the thumbprint of the proof\'s key, and `token_type` is `DPoP`; a resource server then accepts it only as `Authorization: DPoP <token>` with a proof made with that key. This holds for platform tokens too, exchanged or as the client assertion; a platform token\'s one use is spent only when a token is issued, so a request refused for its proof, the client\'s limits, its resource or its scope may be sent again with the same platform token. A client set to `require_dpop` gets no token without a proof (`invalid_dpop_proof`). When the server requires nonces (`KEYMINT_DPOP_NONCE_REQUIRED`), a proof without a current one is answered `use_dpop_nonce` with the nonce in the `DPoP-Nonce` header: make a new proof with it and send the request again; successful DPoP answers carry the current `DPoP-Nonce` too.',
        tags: ['oauth2'],
        security: [{ clientBasic: [] }, {}],
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenRequestForm,
        response: {
          200: jsonResponse('The access token.', refTo(TokenResponse), { access_token: EXAMPLE_ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600, scope: 'orders:read' }),
          ...oauthErrorResponses,
          400: oauthError('The request is malformed, or the client may not have what it asked for (`invalid_request`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`, `invalid_target`), or its DPoP proof is missing, malformed or replayed (`invalid_dpop_proof`) or lacks the current server nonce (`use_dpop_nonce`, with `DPoP-Nonce`).', {
            error: 'invalid_request', error_description: 'grant_type is required',
          }),
        },
      },
    }, async (request, reply) => {
      const form = request.body
      if (form.grant_type === undefined) throw new InvalidRequest('grant_type is required')
      const common = {
        caller: { address: request.ip, userAgent: request.headers['user-agent'] },
        ...(form.scope === undefined ? {} : { scope: form.scope }),
        issuer: deps.issuer(),
        ...requestedResource(form),
        audience: audienceOf(deps),
        defaultLifetimeSeconds: deps.tokens.oauth2LifetimeSeconds,
      }
      // RFC 6749 §5.1: responses carrying tokens must not be cached.
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      const target = { htm: 'POST', htu: `${deps.issuer()}${url}` }
      // RFC 9449 §8.2: the nonce for the next proof, so the client need not be refused to learn it.
      const nextNonce = () => {
        if (deps.dpop.settings.nonceRequired) reply.header('dpop-nonce', deps.dpop.nonces.issue(deps.dpop.now()))
      }
      if (form.grant_type === TOKEN_EXCHANGE_GRANT) {
        if (request.headers.authorization !== undefined || form.client_secret !== undefined || form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
          throw new InvalidRequest('token exchange takes no client credentials: the subject_token is the credential')
        }
        const token = await grantTokenExchange({ auth: deps.workloads, grant: deps.grant, dpop: deps.dpop }, {
          ...common,
          subjectToken: form.subject_token, subjectTokenType: form.subject_token_type, actorToken: form.actor_token,
          requestedTokenType: form.requested_token_type, policyId: form.client_id,
          dpop: { proof: readDPoPProof(request), target },
        }, request.ip)
        deps.issued('oauth2')
        if (token.tokenType === 'DPoP') nextNonce()
        return { access_token: token.accessToken, issued_token_type: ACCESS_TOKEN_TYPE, token_type: token.tokenType, expires_in: token.expiresIn, scope: token.scope }
      }
      if (form.grant_type !== 'client_credentials') {
        throw new UnsupportedGrantType(`grant_type must be client_credentials or ${TOKEN_EXCHANGE_GRANT}`)
      }
      const proof = readDPoPProof(request)
      const presented = readOAuth2Credentials(request, form)
      const platformToken = platformAssertion(presented)
      if (platformToken) {
        // A platform token as the client assertion (RFC 7523 §2.2), judged by the trust policies.
        const token = await grantForWorkload({ auth: deps.workloads, grant: deps.grant, dpop: deps.dpop }, {
          token: platformToken.assertion, role: 'client_assertion', ...(platformToken.clientId === undefined ? {} : { policyId: platformToken.clientId }),
          dpop: { proof, target },
          grant: common,
        }, request.ip)
        deps.issued('oauth2')
        if (token.tokenType === 'DPoP') nextNonce()
        return { access_token: token.accessToken, token_type: token.tokenType, expires_in: token.expiresIn, scope: token.scope }
      }
      const credential = await authenticateRequestClient(deps.auth, request, presented)
      // The common case, no proof and none required, costs no await.
      let bound: AcceptedProof | undefined
      if (proof !== undefined || credential.client.requireDPoP) bound = await proofOfPossession(deps.dpop, { proof, credential, target, address: request.ip })
      const token = await grantClientCredentials(deps.grant, {
        credential, ...common,
        ...(bound === undefined ? {} : { dpopJkt: bound.jkt }),
      })
      deps.issued('oauth2')
      if (bound !== undefined) nextNonce()
      return { access_token: token.accessToken, token_type: token.tokenType, expires_in: token.expiresIn, scope: token.scope }
    })
  }
}
