import type { RevokedToken } from '../domain/ports.js'
import type { AccountId, ClientCredential } from '../domain/types.js'
import { activeTokenClaims, type TokenStateDeps } from './introspection.js'

export interface RevocationDeps extends TokenStateDeps {
  readonly record: (token: RevokedToken) => Promise<void>
}

/**
 * RFC 7009: revokes an access token of the caller's account. Unknown, expired, foreign or
 * already revoked tokens change nothing, and the caller cannot tell (§2.2: still 200).
 */
export async function revokeAccessToken(deps: RevocationDeps, caller: ClientCredential, token: string): Promise<boolean> {
  const claims = await activeTokenClaims(deps, caller, token)
  if (!claims) return false
  await deps.record({
    jti: claims.jti,
    accountId: claims.account_id as AccountId,
    expiresAt: new Date(claims.exp * 1000),
    revokedAt: deps.now(),
  })
  return true
}
