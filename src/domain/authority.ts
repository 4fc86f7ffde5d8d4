import { Forbidden } from './errors.js'
import type { Client, User } from './types.js'

/** keymint's own API scopes start with this; unrestricted access never implies them. */
export const MANAGEMENT_SCOPE_PREFIX = 'keymint:'
/** Grants every management scope. */
export const ADMIN_SCOPE = 'keymint:admin'

export const isManagementScope = (scope: string): boolean => scope.startsWith(MANAGEMENT_SCOPE_PREFIX)

/**
 * What a management caller holds: the `keymint:` scopes of its token (an admin's session holds
 * `keymint:admin`). Domain functions take it as `authority`; without one (the command line,
 * run by the operator on the machine) nothing is limited.
 */
export interface Authority {
  readonly scopes: ReadonlySet<string>
}

const isAdmin = (authority: Authority): boolean => authority.scopes.has(ADMIN_SCOPE)

/** Whether the caller holds every one of these management scopes itself. */
function holdsAll(authority: Authority, scopes: readonly string[]): boolean {
  return isAdmin(authority) || scopes.every((s) => authority.scopes.has(s))
}

/**
 * The management scopes a client's tokens can carry: its own, as far as its owner holds them.
 * A member's clients never carry any (only admins manage an account), and a client without a
 * scope list carries its user's, or none at account level.
 */
export function managementPowerOf(client: Pick<Client, 'level' | 'scopes'>, user: Pick<User, 'role' | 'scopes'> | null): string[] {
  if (client.level === 'user') {
    if (user?.role !== 'admin') return []
    const fromUser = user.scopes.filter(isManagementScope)
    return client.scopes === null ? fromUser : client.scopes.filter((s) => isManagementScope(s) && fromUser.includes(s))
  }
  return (client.scopes ?? []).filter(isManagementScope)
}

/** The management scopes a user holds: an admin holds them all. */
export function managementPowerOfUser(user: Pick<User, 'role' | 'scopes'>): string[] {
  return user.role === 'admin' ? [ADMIN_SCOPE] : user.scopes.filter(isManagementScope)
}

function refuse(what: string): never {
  throw new Forbidden('KEYMINT_ADMIN_REQUIRED', `${what} needs the ${ADMIN_SCOPE} scope`)
}

/** Granting management scopes, or making an admin, is for admins only. */
export function assertMayGrant(authority: Authority | undefined, grants: readonly string[], what: string): void {
  if (authority && grants.length > 0 && !isAdmin(authority)) refuse(what)
}

/** Changing, rotating or revoking what holds more than the caller is for admins only. */
export function assertMayTouch(authority: Authority | undefined, holds: readonly string[], what: string): void {
  if (authority && !holdsAll(authority, holds)) refuse(what)
}

/** For changes that are admin-only whatever the target holds (e.g. a client's public key). */
export function assertAdmin(authority: Authority | undefined, what: string): void {
  if (authority && !isAdmin(authority)) refuse(what)
}
