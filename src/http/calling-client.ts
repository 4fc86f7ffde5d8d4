import type { FastifyRequest } from 'fastify'
import type { ClientCredential } from '../domain/types.js'
import { authenticateClient, type ClientAuthDeps, type PresentedCredentials } from '../oauth/client-auth/authenticate-client.js'
import { claimedClientId } from '../oauth/client-auth/private-key-jwt.js'
import { assertClientMayAct } from '../oauth/client-authorization.js'
import { ClientAuthenticationFailed, TooManyAttempts } from '../oauth/errors.js'
import { readOAuth2Credentials } from './credentials.js'
import type { ClientAuthenticationFields } from './schemas/oauth.js'

/**
 * Authenticates a request's client and notes its key pair's id for the request log: the one it
 * proved, or, when it failed, the id it named only if that is a key pair the server found
 * (whatever else a caller sends stays out of the log).
 */
export async function authenticateRequestClient(auth: ClientAuthDeps, request: FastifyRequest, presented: PresentedCredentials): Promise<ClientCredential> {
  try {
    const credential = await authenticateClient(auth, presented, request.ip)
    request.clientId = credential.keyPair.id
    return credential
  } catch (err) {
    const failed = err instanceof TooManyAttempts ? err.cause : err
    if (failed instanceof ClientAuthenticationFailed && failed.accountId !== null) {
      request.clientId = presented.method === 'private_key_jwt' ? claimedClientId(presented) : presented.clientId
    }
    throw err
  }
}

/**
 * The client calling introspection, revocation or the revocation feed: authenticated like at the
 * token endpoint, and allowed to act. Each answers only about the client's own account
 * (RFC 7662 §2.1, RFC 7009 §2.1).
 */
export async function authenticateCallingClient(auth: ClientAuthDeps, request: FastifyRequest, form: ClientAuthenticationFields): Promise<ClientCredential> {
  const caller = await authenticateRequestClient(auth, request, readOAuth2Credentials(request, form))
  assertClientMayAct(caller)
  return caller
}
