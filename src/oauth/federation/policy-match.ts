import type { JWTPayload } from 'jose'
import type { FederationPolicy } from '../../domain/types.js'

/** Why a verified token does not fit one policy, as a fixed reason code and (for claims) the claim's name. */
export interface PolicyMismatch {
  readonly reason: 'federation_audience_mismatch' | 'federation_subject_mismatch' | 'federation_claim_mismatch' | 'federation_token_too_old'
  /** How far the token got: a mismatch of a later check is the more telling one to report. */
  readonly stage: number
  readonly check?: string
}

/**
 * `*` matches any run of characters (`/` and `:` included, none at all too); everything else
 * matches itself. `repo:acme/api:*` trusts every ref of one repository.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const parts = pattern.split('*')
  if (parts.length === 1) return pattern === subject
  const first = parts[0]!
  const last = parts[parts.length - 1]!
  if (subject.length < first.length + last.length || !subject.startsWith(first) || !subject.endsWith(last)) return false
  // Each middle piece taken at its leftmost place leaves the most room for the rest.
  let at = first.length
  const end = subject.length - last.length
  for (const piece of parts.slice(1, -1)) {
    const found = subject.indexOf(piece, at)
    if (found === -1 || found + piece.length > end) return false
    at = found + piece.length
  }
  return true
}

/**
 * A claim's value as text: the top-level claim of that name, else (for names with `/`) the
 * path into nested objects, as Kubernetes nests `kubernetes.io/serviceaccount/name`. Strings
 * as they are, numbers and booleans as JSON writes them, anything else undefined.
 */
export function claimText(payload: JWTPayload, name: string): string | undefined {
  let value: unknown = Object.hasOwn(payload, name) ? payload[name] : undefined
  if (value === undefined && name.includes('/')) {
    value = payload
    for (const segment of name.split('/')) {
      value = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined
    }
  }
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}

/** The first of the policy's checks the token fails, in order; undefined when it passes them all. */
export function policyMismatch(policy: FederationPolicy, payload: JWTPayload, nowSeconds: number, toleranceSeconds: number): PolicyMismatch | undefined {
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : []
  if (!audiences.includes(policy.audience)) return { reason: 'federation_audience_mismatch', stage: 1 }
  if (typeof payload.sub !== 'string' || !subjectMatches(policy.subject, payload.sub)) return { reason: 'federation_subject_mismatch', stage: 2 }
  for (const [name, expected] of Object.entries(policy.claims)) {
    // The claim's name is the policy's own (an admin wrote it), never the token's value.
    if (claimText(payload, name) !== expected) return { reason: 'federation_claim_mismatch', stage: 3, check: `claim:${name}` }
  }
  if (policy.maxAgeSeconds !== null && typeof payload.iat === 'number' && nowSeconds - payload.iat > policy.maxAgeSeconds + toleranceSeconds) {
    return { reason: 'federation_token_too_old', stage: 4, check: `older_than_${policy.maxAgeSeconds}s` }
  }
  return undefined
}
