import type { ClientCredential } from '../domain/types.js'
import { InvalidScope } from './errors.js'

/** What an unrestricted client reports instead of a scope list (second seed: `"scope": "all"`). */
export const ALL_SCOPES = 'all'

/** Scopes that are never implied by unrestricted access: they must be granted by name. */
export const RESERVED_SCOPE_PREFIX = 'keymint:'

// RFC 6749 §3.3: scope = scope-token *( SP scope-token )
const SCOPE_PARAM = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/

/** The scopes a credential may be granted; null means unrestricted. */
export function allowedScopes(credential: ClientCredential): ReadonlySet<string> | null {
  const { client, user } = credential
  const fromUser = user ? new Set(user.scopes) : null
  if (client.scopes === null) return fromUser
  return new Set(fromUser ? client.scopes.filter((s) => fromUser.has(s)) : client.scopes)
}

/** RFC 6749 §3.3: the granted scope is the request's, which must be a subset of the allowed set. */
export function grantScope(credential: ClientCredential, requested: string | undefined): string {
  const allowed = allowedScopes(credential)
  if (requested === undefined || requested === '') {
    return allowed === null ? ALL_SCOPES : [...allowed].sort().join(' ')
  }
  if (requested.length > 4096 || !SCOPE_PARAM.test(requested)) {
    throw new InvalidScope('scope is malformed')
  }
  const wanted = [...new Set(requested.split(' '))]
  // Unrestricted access covers every API scope, and "all" itself, but not keymint's own.
  const refused = allowed === null
    ? wanted.filter((s) => s.startsWith(RESERVED_SCOPE_PREFIX))
    : wanted.filter((s) => !allowed.has(s))
  if (refused.length > 0) {
    throw new InvalidScope(`scope exceeds what this client may have: ${refused.slice(0, 5).join(' ')}`)
  }
  return allowed === null && wanted.includes(ALL_SCOPES) ? ALL_SCOPES : wanted.join(' ')
}
