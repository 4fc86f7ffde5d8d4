import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import type { ServerKeyRecord } from '../../domain/ports.js'
import { publicJwk } from '../../domain/server-keys.js'
import { TOKEN_EXCHANGE_GRANT } from '../../oauth/grants/token-exchange.js'
import { DPOP_SIGNING_ALGS } from '../../oauth/dpop-proof.js'

export interface WellKnownDeps {
  readonly issuer: () => string
  /** Keys to publish: active ones and retired ones whose tokens may still be alive. */
  readonly publishedKeys: () => readonly ServerKeyRecord[]
}

const strings = Type.Array(Type.String())

// RFC 8414 §2, in the order sent.
const Metadata = Type.Object({
  issuer: Type.String(),
  token_endpoint: Type.String(),
  jwks_uri: Type.String(),
  grant_types_supported: strings,
  response_types_supported: strings,
  token_endpoint_auth_methods_supported: strings,
  token_endpoint_auth_signing_alg_values_supported: strings,
  introspection_endpoint: Type.String(),
  introspection_endpoint_auth_methods_supported: strings,
  revocation_endpoint: Type.String(),
  revocation_endpoint_auth_methods_supported: strings,
  scopes_supported: strings,
  subject_types_supported: strings,
  id_token_signing_alg_values_supported: strings,
  dpop_signing_alg_values_supported: strings,
}, { additionalProperties: false })

// RFC 7517: each key's public members as they are, in their order.
const Jwks = Type.Object({
  keys: Type.Array(Type.Unsafe<Record<string, string>>({ type: 'object', additionalProperties: { type: 'string' } })),
}, { additionalProperties: false })

/** RFC 8414 metadata (also served as OpenID discovery) and the JWKS. */
export async function wellKnownRoutes(fastify: FastifyInstance, deps: WellKnownDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const metadata = () => {
    const issuer = deps.issuer()
    return {
      issuer,
      token_endpoint: `${issuer}/oauth2/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      // RFC 8693 token exchange: a platform token (workload identity federation) for an access token.
      grant_types_supported: ['client_credentials', TOKEN_EXCHANGE_GRANT],
      response_types_supported: ['token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'EdDSA'],
      introspection_endpoint: `${issuer}/oauth2/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      revocation_endpoint: `${issuer}/oauth2/revoke`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      scopes_supported: ['all'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [...new Set(deps.publishedKeys().filter((k) => k.use === 'sig').map((k) => k.alg))],
      // RFC 9449 §5.1.
      dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    }
  }
  // Discovery documents have their own standards; the API document leaves them out.
  for (const url of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(url, { schema: { hide: true, response: { 200: Metadata } } }, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(metadata()))
  }
  app.get('/.well-known/jwks.json', { schema: { hide: true, response: { 200: Jwks } } }, async (_request, reply) => reply
    .header('cache-control', 'public, max-age=300')
    .send({ keys: deps.publishedKeys().map(publicJwk) }))
}
