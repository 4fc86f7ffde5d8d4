import type { ClientCredential } from '../domain/types.js'
import { userMayObtainTokens } from '../domain/users.js'
import { UnauthorizedClient } from './errors.js'

/**
 * DESIGN §1: an authenticated key pair may act only for an enterprise account and, for a
 * user-level client, only while its user is active with both `ui` and `api`.
 */
export function assertClientMayAct(credential: ClientCredential): void {
  if (credential.accountPlan !== 'enterprise') {
    throw new UnauthorizedClient('API access requires an enterprise account', { detail: `plan ${credential.accountPlan}` })
  }
  if (credential.client.level === 'user' && !credentialUserMayAct(credential)) {
    throw new UnauthorizedClient('the user behind this client must be active and have both UI and API access permissions')
  }
}

export function credentialUserMayAct(credential: ClientCredential): boolean {
  return credential.user !== null && userMayObtainTokens(credential.user)
}
