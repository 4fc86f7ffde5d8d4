import { isManagementScope } from '../domain/authority.js'
import type { ClientCredential } from '../domain/types.js'
import { InvalidScope } from './errors.js'

/** What an unrestricted client reports instead of a scope list (second seed: `"scope": "all"`). */
export const ALL_SCOPES = 'all'

// RFC 6749 §3.3: scope = scope-token *( SP scope-token )
const SCOPE_PARAM = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/

/** Where a token will be used: keymint's own API, or any other. */
export interface TokenAudience {
  /** `aud` is keymint itself, whose API reads `keymint:` scopes. */
  readonly isKeymint: boolean
}

/**
 * The scopes a credential may be granted for an audience; null means unrestricted. `keymint:`
 * scopes count only in tokens for keymint itself, and only for clients that may manage the
 * account: account-level clients and clients of admins.
 */
export function allowedScopes(credential: ClientCredential, audience: TokenAudience): ReadonlySet<string> | null {
  const { client, user } = credential
  // An admin without a scope list acts for the whole account, like an account-level client: the
  // second seed's admin key pair answers `"scope": "all"`. Listing scopes on an admin narrows them.
  const unrestrictedAdmin = user?.role === 'admin' && user.scopes.length === 0
  const mayManage = audience.isKeymint && (client.level === 'subscription' || (user?.role === 'admin' && !unrestrictedAdmin))
  const usable = (scope: string) => mayManage || !isManagementScope(scope)
  const fromUser = user && !unrestrictedAdmin ? new Set(user.scopes.filter(usable)) : null
  if (client.scopes === null) return fromUser
  return new Set(client.scopes.filter((s) => usable(s) && (!fromUser || fromUser.has(s))))
}

/**
 * RFC 6749 §3.3: the granted scope is the request's, which must be a subset of the allowed set;
 * without a request, everything allowed. A token that would carry no scope is refused.
 */
export function grantScope(credential: ClientCredential, requested: string | undefined, audience: TokenAudience): string {
  const allowed = allowedScopes(credential, audience)
  if (requested === undefined || requested === '') {
    if (allowed === null) return ALL_SCOPES
    if (allowed.size === 0) throw new InvalidScope('this client holds no scope for this audience: grant it scopes (or its user)')
    return [...allowed].sort().join(' ')
  }
  if (requested.length > 4096 || !SCOPE_PARAM.test(requested)) {
    throw new InvalidScope('scope is malformed')
  }
  const wanted = [...new Set(requested.split(' '))]
  // Unrestricted access covers every API scope, and "all" itself, but not keymint's own.
  const refused = allowed === null
    ? wanted.filter(isManagementScope)
    : wanted.filter((s) => !allowed.has(s))
  if (refused.length > 0) {
    throw new InvalidScope(`scope exceeds what this client may have for this audience: ${refused.slice(0, 5).join(' ')}`)
  }
  return allowed === null && wanted.includes(ALL_SCOPES) ? ALL_SCOPES : wanted.join(' ')
}
