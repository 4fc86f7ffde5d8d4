import type { FastifyInstance } from 'fastify'
import { InvalidRequest } from '../../oauth/errors.js'
import { introspectToken } from '../../oauth/introspection.js'
import { acceptFormOnly } from '../body-media-type.js'
import { authenticateCallingClient } from '../calling-client.js'
import type { FormParams } from '../form-body.js'
import type { TokenStateEndpointDeps } from './token-state-deps.js'

const introspectionResponse = {
  200: {
    type: 'object',
    additionalProperties: false,
    required: ['active'],
    properties: {
      active: { type: 'boolean' },
      token_type: { type: 'string' },
      scope: { type: 'string' },
      client_id: { type: 'string' },
      sub: { type: 'string' },
      aud: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      iss: { type: 'string' },
      exp: { type: 'integer' },
      iat: { type: 'integer' },
      jti: { type: 'string' },
      account_id: { type: 'string' },
      client_level: { type: 'string' },
    },
  },
} as const

/** RFC 7662 token introspection, for a client of the token's own account. */
export async function introspectionRoutes(app: FastifyInstance, deps: TokenStateEndpointDeps): Promise<void> {
  app.post('/oauth2/introspect', {
    config: { errorFormat: 'oauth' }, onRequest: acceptFormOnly, schema: { response: introspectionResponse },
  }, async (request, reply) => {
    const form = (request.body ?? {}) as FormParams
    const caller = await authenticateCallingClient(deps.auth, request, form)
    if (form.token === undefined || form.token === '') throw new InvalidRequest('token is required')
    reply.header('cache-control', 'no-store')
    return introspectToken(deps.tokens, caller, form.token)
  })
}
