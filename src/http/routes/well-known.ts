import type { FastifyInstance } from 'fastify'
import type { ServerKeyRecord } from '../../domain/ports.js'
import { publicJwk } from '../../domain/server-keys.js'

export interface WellKnownDeps {
  readonly issuer: () => string
  /** Keys to publish: active ones and retired ones whose tokens may still be alive. */
  readonly publishedKeys: () => readonly ServerKeyRecord[]
}

/** RFC 8414 metadata (also served as OpenID discovery) and the JWKS. */
export async function wellKnownRoutes(app: FastifyInstance, deps: WellKnownDeps): Promise<void> {
  const metadata = () => {
    const issuer = deps.issuer()
    return {
      issuer,
      token_endpoint: `${issuer}/oauth2/token`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
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
    }
  }
  for (const url of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(url, async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(metadata()))
  }
  app.get('/.well-known/jwks.json', async (_request, reply) => reply
    .header('cache-control', 'public, max-age=300')
    .send({ keys: deps.publishedKeys().map(publicJwk) }))
}
