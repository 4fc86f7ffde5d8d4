import type { FastifyRequest } from 'fastify'
import type { ClientCredential } from '../domain/types.js'
import { authenticateClient, type ClientAuthDeps } from '../oauth/client-auth/authenticate-client.js'
import { assertClientMayAct } from '../oauth/client-authorization.js'
import { readOAuth2Credentials } from './credentials.js'
import type { ClientAuthenticationFields } from './schemas/oauth.js'

/**
 * The client calling introspection, revocation or the revocation feed: authenticated like at the
 * token endpoint, and allowed to act. Each answers only about the client's own account
 * (RFC 7662 §2.1, RFC 7009 §2.1).
 */
export async function authenticateCallingClient(auth: ClientAuthDeps, request: FastifyRequest, form: ClientAuthenticationFields): Promise<ClientCredential> {
  const caller = await authenticateClient(auth, readOAuth2Credentials(request, form), request.ip)
  assertClientMayAct(caller)
  return caller
}
