import { SIGNING_ALGS, type SigningAlg } from '../crypto/jws.js'
import { InvalidInput } from './errors.js'
import { CLIENT_LEVELS, PERMISSIONS, PLANS, ROLES, TOKEN_ENCRYPTION_ALGS } from './types.js'
import type { ClientLevel, Permission, Plan, Role, TokenEncryptionAlg } from './types.js'

// Business-level checks on values that reach the domain from any edge (CLI, REST API).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
// Deliberately simple: one @, no spaces or control characters, a dot in the domain part.
const EMAIL = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u
// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/
// 'all' is what an unrestricted client reports; it cannot also be a granted scope name.
const RESERVED_SCOPES = new Set(['all'])

export const MIN_LIFETIME_SECONDS = 60
export const MAX_LIFETIME_SECONDS = 7 * 24 * 3600

export function isUuid(value: string): boolean {
  return UUID.test(value)
}

export function requireUuid<T extends string>(value: string, what: string): T {
  if (!isUuid(value)) throw new InvalidInput('KEYMINT_INVALID_INPUT', `${what} must be a UUID`)
  return value as T
}

export function requireName(value: string, what: string): string {
  const name = value.trim()
  if (name.length === 0 || name.length > 200 || /\p{Cc}/u.test(name)) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `${what} must be 1-200 printable characters`)
  }
  return name
}

export function requireEmail(value: string): string {
  const email = value.trim().toLowerCase()
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `invalid email address: ${JSON.stringify(value.slice(0, 80))}`)
  }
  return email
}

export function requireScopes(values: readonly string[]): string[] {
  const scopes = [...new Set(values)]
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope) || RESERVED_SCOPES.has(scope)) {
      throw new InvalidInput('KEYMINT_INVALID_INPUT', `invalid scope: ${JSON.stringify(scope.slice(0, 80))}`)
    }
  }
  if (scopes.length > 200) throw new InvalidInput('KEYMINT_INVALID_INPUT', 'at most 200 scopes')
  return scopes.sort()
}

function requireOneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `${what} must be one of: ${allowed.join(', ')}`)
  }
  return value as T
}

export const requirePlan = (v: string): Plan => requireOneOf(v, PLANS, 'plan')
export const requireRole = (v: string): Role => requireOneOf(v, ROLES, 'role')
export const requireLevel = (v: string): ClientLevel => requireOneOf(v, CLIENT_LEVELS, 'level')
export const requireSigningAlg = (v: string): SigningAlg => requireOneOf(v, SIGNING_ALGS, 'signing algorithm')
export const requireTokenEncryption = (v: string): TokenEncryptionAlg => requireOneOf(v, TOKEN_ENCRYPTION_ALGS, 'token encryption')

export function requirePermissions(values: readonly string[]): Permission[] {
  return [...new Set(values.map((v) => requireOneOf(v, PERMISSIONS, 'permission')))].sort()
}

export function requireLifetime(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < MIN_LIFETIME_SECONDS || seconds > MAX_LIFETIME_SECONDS) {
    throw new InvalidInput(
      'KEYMINT_INVALID_INPUT',
      `lifetime must be between ${MIN_LIFETIME_SECONDS} s and ${MAX_LIFETIME_SECONDS} s`,
    )
  }
  return seconds
}
