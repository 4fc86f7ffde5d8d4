import type { ClientCredential, FederationPolicyId, KeyPairId } from '../domain/types.js'
import { boundKeyOf, type AccessTokenClaims, type VerifyAccessToken } from './access-token-verifier.js'
import { tokenVerdict } from './token-verdict.js'

export interface TokenStateDeps {
  readonly verify: VerifyAccessToken
  readonly findCredential: (id: KeyPairId) => Promise<ClientCredential | undefined>
  /** For tokens issued through a trust policy (they carry `act`): the policy's client, the policy standing in for a key pair. */
  readonly findPolicyCredential: (id: FederationPolicyId) => Promise<ClientCredential | undefined>
  readonly isRevoked: (jti: string) => boolean
  readonly now: () => Date
}

/**
 * A token is active only while everything that allowed it still holds: signature and expiry,
 * no revocation of the token or its key pair, an enabled client never disabled since, an
 * enterprise account, and (user-level) an active user with `ui` and `api`. Tokens of another
 * account are reported inactive.
 */
export async function activeTokenClaims(deps: TokenStateDeps, caller: ClientCredential, token: string): Promise<AccessTokenClaims | undefined> {
  const active = await activeToken(deps, token)
  return active && active.claims.account_id === caller.client.accountId ? active.claims : undefined
}

/** A token's claims and the credential it was issued to, while the token is active. */
export async function activeToken(deps: TokenStateDeps, token: string): Promise<{ claims: AccessTokenClaims; issuedTo: ClientCredential } | undefined> {
  const verdict = await tokenVerdict(deps, token)
  return verdict.active ? { claims: verdict.claims, issuedTo: verdict.issuedTo } : undefined
}

/** RFC 7662 §2.2: `active`, and for an active token the claims a resource server needs. */
export type TokenIntrospection =
  | { readonly active: false }
  | { readonly active: true; readonly token_type: 'Bearer' | 'DPoP'; readonly cnf?: { readonly jkt: string } } & Pick<AccessTokenClaims,
    'scope' | 'client_id' | 'sub' | 'aud' | 'iss' | 'exp' | 'iat' | 'jti' | 'account_id' | 'client_level' | 'act'>

/** RFC 7662 §2.2 response. */
export async function introspectToken(deps: TokenStateDeps, caller: ClientCredential, token: string): Promise<TokenIntrospection> {
  const claims = await activeTokenClaims(deps, caller, token)
  if (!claims) return { active: false }
  const jkt = boundKeyOf(claims)
  return {
    active: true,
    // RFC 9449 §6.2: a bound token says so, and names its key.
    token_type: jkt === undefined ? 'Bearer' : 'DPoP',
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    account_id: claims.account_id,
    client_level: claims.client_level,
    ...(claims.act === undefined ? {} : { act: { iss: claims.act.iss, sub: claims.act.sub } }),
    ...(jkt === undefined ? {} : { cnf: { jkt } }),
  }
}
