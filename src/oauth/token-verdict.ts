import { decodeJwt } from 'jose'
import type { ClientCredential, FederationPolicyId, KeyPairId } from '../domain/types.js'
import { keyPairState } from '../domain/types.js'
import { issuedBeforeCutOff } from '../domain/users.js'
import type { AccessTokenClaims } from './access-token-verifier.js'
import { credentialUserMayAct } from './client-authorization.js'
import { keyPairEndedReason } from './errors.js'
import type { TokenStateDeps } from './introspection.js'

/** Why a token is not active, for its holder: the token tester says it in words. */
export type InactiveReason =
  | 'malformed' | 'invalid' | 'expired' | 'other_account' | 'revoked' | 'key_pair_revoked' | 'key_pair_expired' | 'client_disabled'
  | 'plan' | 'user_not_allowed' | 'user_cut_off'

export type TokenVerdict =
  | { readonly active: true; readonly claims: AccessTokenClaims; readonly issuedTo: ClientCredential }
  | { readonly active: false; readonly reason: InactiveReason }

const inactive = (reason: InactiveReason): TokenVerdict => ({ active: false, reason })

/** A signed token whose only fault may be its age: `exp` read without checking anything else. */
function expiredBy(token: string, now: Date): boolean {
  try {
    const { exp } = decodeJwt(token)
    return typeof exp === 'number' && exp * 1000 <= now.getTime()
  } catch {
    return false
  }
}

/**
 * Whether a token is active, and if not, the first rule it fails, in the order introspection
 * checks them: signature and expiry, the token's own revocation, its key pair, its client, the
 * account's plan, and (user-level) its user now and since the token was issued. With
 * `forAccount`, a verified token of another account is told no more than that.
 */
export async function tokenVerdict(deps: TokenStateDeps, token: string, forAccount?: string): Promise<TokenVerdict> {
  const claims = await deps.verify(token)
  if (!claims) {
    if (!/^[\w-]+(\.[\w-]*){2,4}$/.test(token)) return inactive('malformed')
    return inactive(expiredBy(token, deps.now()) ? 'expired' : 'invalid')
  }
  if (forAccount !== undefined && claims.account_id !== forAccount) return inactive('other_account')
  if (deps.isRevoked(claims.jti)) return inactive('revoked')
  // A token with `act` was issued through a trust policy: its client_id is the policy's id.
  const issuedTo = claims.act === undefined
    ? await deps.findCredential(claims.client_id as KeyPairId)
    : await deps.findPolicyCredential(claims.client_id as FederationPolicyId)
  if (!issuedTo || issuedTo.client.accountId !== claims.account_id) return inactive('key_pair_revoked')
  const ended = keyPairEndedReason(keyPairState(issuedTo.keyPair, deps.now()))
  if (ended) return inactive(ended)
  const iat = typeof claims.iat === 'number' ? claims.iat : 0
  if (issuedTo.client.disabled || issuedBeforeCutOff(issuedTo.client, iat)) return inactive('client_disabled')
  if (issuedTo.accountPlan !== 'enterprise') return inactive('plan')
  if (issuedTo.client.level === 'user' && !credentialUserMayAct(issuedTo)) return inactive('user_not_allowed')
  if (issuedTo.user && issuedBeforeCutOff(issuedTo.user, iat)) return inactive('user_cut_off')
  return { active: true, claims, issuedTo }
}
