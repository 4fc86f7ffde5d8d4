import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ClientLevel } from '../../domain/types.js'
import { authenticateClient } from '../../oauth/client-auth/authenticate-client.js'
import { grantClientCredentials } from '../../oauth/grants/client-credentials.js'
import { parseEncryptedParam } from '../../oauth/token-encryption.js'
import { InvalidRequest } from '../../oauth/errors.js'
import { acceptEmptyBodyOrForm } from '../body-media-type.js'
import { readHeaderCredentials } from '../credentials.js'
import type { FormParams } from '../form-body.js'
import { requestedResource } from '../requested-resource.js'
import { audienceOf, type TokenEndpointDeps } from './token-endpoint-deps.js'

const ENDPOINTS: readonly { url: string; level: ClientLevel; hint: string }[] = [
  { url: '/auth/oauth', level: 'subscription', hint: 'request its token from POST /auth/oidc' },
  { url: '/auth/oidc', level: 'user', hint: 'request its token from POST /auth/oauth' },
]

/** `encrypted` as a form field (the seed's `--data-urlencode`) or as a query parameter, not both. */
function encryptedParam(request: FastifyRequest, form: FormParams): string | undefined {
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.encrypted
  if (fromQuery !== undefined && typeof fromQuery !== 'string') throw new InvalidRequest('encrypted is included more than once')
  if (fromQuery !== undefined && form.encrypted !== undefined) throw new InvalidRequest('encrypted is given in both the query and the body; send it once')
  return fromQuery ?? form.encrypted
}

/**
 * The header dialect (first seed): credentials in `clientId`/`clientSecret` headers, the
 * bare JWT as `text/plain`. `/auth/oauth` serves subscription-level clients, `/auth/oidc` user-level.
 */
export async function headerDialectTokenRoutes(app: FastifyInstance, deps: TokenEndpointDeps): Promise<void> {
  for (const endpoint of ENDPOINTS) {
    app.post(endpoint.url, { config: { errorFormat: 'oauth' }, onRequest: acceptEmptyBodyOrForm }, async (request, reply) => {
      const form = (request.body ?? {}) as FormParams
      const presented = readHeaderCredentials(request)
      const encryption = parseEncryptedParam(encryptedParam(request, form))
      const credential = await authenticateClient(deps.auth, presented, request.ip)
      const token = await grantClientCredentials(deps.grant, {
        credential,
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
