import { VerifyError } from './errors.js'
import type { VerifiedToken } from './types.js'

/** What keymint grants an unrestricted client instead of a scope list. */
const ALL = 'all'
/** keymint's own scopes: never implied by `all`, only granted by name. */
const RESERVED_PREFIX = 'keymint:'

/**
 * Whether the token grants `scope`; `all` grants every scope except keymint's own (`keymint:…`).
 *
 * @param token - a verified token
 * @param scope - one scope
 * @example
 * ```ts
 * if (hasScope(token, 'reports:write')) allowEdit()
 * ```
 */
export function hasScope(token: Pick<VerifiedToken, 'scopes'>, scope: string): boolean {
  if (token.scopes.includes(scope)) return true
  return token.scopes.includes(ALL) && !scope.startsWith(RESERVED_PREFIX)
}

/**
 * Throws an `insufficient_scope` {@link VerifyError} unless the token grants every one of `scopes`.
 *
 * @param token - a verified token
 * @param scopes - the scopes the operation needs
 * @example
 * ```ts
 * const token = await verifier.verify(bearer)
 * requireScopes(token, 'reports:read', 'reports:write')
 * ```
 */
export function requireScopes(token: Pick<VerifiedToken, 'scopes'> & Partial<Pick<VerifiedToken, 'jkt'>>, ...scopes: string[]): void {
  const missing = scopes.filter((s) => !hasScope(token, s))
  if (missing.length > 0) {
    // RFC 6750 §3: the challenge's scope attribute names what the resource needs; in the scheme the token came in.
    throw new VerifyError('insufficient_scope', `token lacks scope: ${missing.join(' ')}`, {
      scope: scopes.join(' '), ...(token.jkt === undefined ? {} : { scheme: 'DPoP' as const }),
    })
  }
}
