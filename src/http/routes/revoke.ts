import type { FastifyInstance } from 'fastify'
import { InvalidRequest } from '../../oauth/errors.js'
import { revokeAccessToken } from '../../oauth/revocation.js'
import { acceptFormOnly } from '../body-media-type.js'
import { authenticateCallingClient } from '../calling-client.js'
import type { FormParams } from '../form-body.js'
import type { TokenStateEndpointDeps } from './token-state-deps.js'

/** RFC 7009 token revocation: one access token of the caller's account; 200 also for unknown tokens. */
export async function revocationRoutes(app: FastifyInstance, deps: TokenStateEndpointDeps): Promise<void> {
  app.post('/oauth2/revoke', { config: { errorFormat: 'oauth' }, onRequest: acceptFormOnly }, async (request, reply) => {
    const form = (request.body ?? {}) as FormParams
    const caller = await authenticateCallingClient(deps.auth, request, form)
    if (form.token === undefined || form.token === '') throw new InvalidRequest('token is required')
    const revoked = await revokeAccessToken(deps.tokens, caller, form.token)
    // Logged under the wire name: the caller's client_id, its key pair's id.
    request.log.info({ callerClientId: caller.keyPair.id, revoked }, 'token revocation requested')
    return reply.status(200).header('cache-control', 'no-store').send()
  })
}
