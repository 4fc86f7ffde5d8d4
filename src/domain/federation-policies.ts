import { IssuerJwksError, readIssuerJwks } from '../crypto/issuer-jwks.js'
import { randomId } from '../crypto/random.js'
import { assertPlanAllowsKeyPairs, getAccount } from './accounts.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import type { Authority } from './authority.js'
import { assertMayManageKeyPairs, getClient } from './clients.js'
import { InvalidInput, NotFound } from './errors.js'
import type { Clock, Store } from './ports.js'
import type { AccountId, FederationPolicy, FederationPolicyId } from './types.js'
import { requireUuid } from './validation.js'

export interface FederationSettings {
  /** Development only: issuers `http://127.0.0.1`, `http://[::1]` and `http://localhost` are accepted. */
  readonly allowLoopback: boolean
}

export interface NewFederationPolicyInput {
  readonly accountId: string
  /** The client's own id. */
  readonly clientId: string
  readonly issuer: string
  readonly audience: string
  readonly subject: string
  readonly claims?: Readonly<Record<string, string>>
  /** The issuer's JWKS as JSON text or parsed, for issuers keymint cannot reach. */
  readonly jwks?: string | object
  readonly maxAgeSeconds?: number
  readonly actor?: string
  readonly authority?: Authority
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])
const MAX_URL_LENGTH = 2048
const MAX_SUBJECT_LENGTH = 512
const MAX_CLAIMS = 32
const MAX_CLAIM_VALUE_LENGTH = 512
export const MAX_JWKS_TEXT_LENGTH = 65_536
export const MIN_MAX_AGE_SECONDS = 10
export const MAX_MAX_AGE_SECONDS = 30 * 24 * 3600
// Claim names: printable ASCII without spaces or `=` (which ends a name on the command line).
const CLAIM_NAME = /^[\x21-\x3c\x3e-\x7e]{1,256}$/
// The registered claims are the policy's own fields (or checked for every token); a required claim repeating one would only confuse.
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'])
const CONTROL = /\p{Cc}/u

const invalid = (message: string, cause?: unknown) => new InvalidInput('KEYMINT_INVALID_INPUT', message, cause === undefined ? {} : { cause })

/**
 * Why `value` may not be fetched from, or undefined when it may: https, or (development only)
 * http to a loopback address. No credentials, query or fragment.
 */
export function fetchableUrlProblem(value: string, settings: FederationSettings): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute https URL'
  }
  if (value.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`
  if (url.username || url.password) return 'must not carry credentials'
  if (url.hash || url.search) return 'must not have a query or fragment'
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) {
    return settings.allowLoopback ? undefined : 'must be https; http to a loopback address needs KEYMINT_FEDERATION_ALLOW_LOOPBACK=true (development only)'
  }
  return 'must be https'
}

function requireIssuer(value: string, settings: FederationSettings): string {
  const problem = fetchableUrlProblem(value, settings)
  if (problem !== undefined) throw invalid(`issuer ${problem}`)
  // Compared with the token's `iss` as written: no normalization, so none is done here either.
  return value
}

function requireAudience(value: string): string {
  if (value.length === 0 || value.length > MAX_URL_LENGTH || /\s/.test(value) || CONTROL.test(value)) {
    throw invalid(`audience must be 1-${MAX_URL_LENGTH} characters without spaces`)
  }
  return value
}

function requireSubject(value: string): string {
  if (value.length === 0 || value.length > MAX_SUBJECT_LENGTH || CONTROL.test(value)) {
    throw invalid(`subject must be 1-${MAX_SUBJECT_LENGTH} printable characters (exact, or a glob with *)`)
  }
  // `*` alone would trust every workload of the issuer: on GitHub, every repository in the world.
  if (/^\**$/.test(value)) throw invalid('subject must name something besides *: a glob of * alone would trust every token of the issuer')
  return value
}

function requireClaims(claims: Readonly<Record<string, string>>): Record<string, string> {
  const entries = Object.entries(claims)
  if (entries.length > MAX_CLAIMS) throw invalid(`at most ${MAX_CLAIMS} required claims`)
  const out: Record<string, string> = {}
  for (const [name, value] of entries) {
    if (!CLAIM_NAME.test(name)) throw invalid('claim names must be 1-256 printable characters without spaces or =')
    if (RESERVED_CLAIMS.has(name)) throw invalid(`claim ${name} is set by the policy's own fields (issuer, audience, subject) or checked for every token`)
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CLAIM_VALUE_LENGTH || CONTROL.test(value)) {
      throw invalid(`the value of claim ${name} must be 1-${MAX_CLAIM_VALUE_LENGTH} printable characters`)
    }
    out[name] = value
  }
  return out
}

function requireJwks(value: string | object): FederationPolicy['jwks'] {
  let parsed: unknown = value
  if (typeof value === 'string') {
    if (value.length > MAX_JWKS_TEXT_LENGTH) throw invalid(`jwks must be at most ${MAX_JWKS_TEXT_LENGTH} characters`)
    try {
      parsed = JSON.parse(value)
    } catch (err) {
      throw invalid('jwks must be a JSON Web Key Set (JSON)', err)
    }
  } else if (JSON.stringify(value).length > MAX_JWKS_TEXT_LENGTH) {
    throw invalid(`jwks must be at most ${MAX_JWKS_TEXT_LENGTH} characters`)
  }
  try {
    return readIssuerJwks(parsed, { strict: true })
  } catch (err) {
    if (err instanceof IssuerJwksError) throw invalid(`jwks: ${err.message}`, err)
    throw err
  }
}

function requireMaxAge(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < MIN_MAX_AGE_SECONDS || seconds > MAX_MAX_AGE_SECONDS) {
    throw invalid(`max age must be whole seconds from ${MIN_MAX_AGE_SECONDS} to ${MAX_MAX_AGE_SECONDS} (30 days)`)
  }
  return seconds
}

/**
 * Trusts an external issuer's tokens for one client of the account (issue 16). Every value is
 * checked before anything is written; the client must be the account's, and the caller must
 * hold what the client holds, as for issuing it a key pair.
 */
export async function createFederationPolicy(
  deps: { store: Store; clock: Clock; federation: FederationSettings },
  input: NewFederationPolicyInput,
): Promise<FederationPolicy> {
  const issuer = requireIssuer(input.issuer, deps.federation)
  const audience = requireAudience(input.audience)
  const subject = requireSubject(input.subject)
  const claims = requireClaims(input.claims ?? {})
  const jwks = input.jwks === undefined ? null : requireJwks(input.jwks)
  const maxAgeSeconds = input.maxAgeSeconds === undefined ? null : requireMaxAge(input.maxAgeSeconds)
  return deps.store.transaction(async (tx) => {
    const account = await getAccount(tx, input.accountId)
    assertPlanAllowsKeyPairs(account)
    const client = await getClient({ store: tx }, input.clientId)
    if (client.accountId !== account.id) throw new NotFound('KEYMINT_CLIENT_NOT_FOUND', `client ${input.clientId} not found in account ${account.id}`)
    await assertMayManageKeyPairs(tx, client, input.authority)
    const now = deps.clock.now()
    const policy: FederationPolicy = {
      id: randomId() as FederationPolicyId, accountId: account.id, clientId: client.id, issuer, audience, subject, claims, jwks, maxAgeSeconds, createdAt: now, deletedAt: null,
    }
    await tx.federationPolicies.insert(policy)
    await tx.audit.insert([auditEvent({
      accountId: account.id, actor: input.actor ?? DEFAULT_ACTOR, action: 'federation_policy.created', target: policy.id,
      details: { client: client.id, ...policyDetails(policy) }, createdAt: now,
    })])
    return policy
  })
}

/** What the audit log says of a policy: everything but the keys themselves (their `kid`s only). */
function policyDetails(p: FederationPolicy): Record<string, unknown> {
  return {
    issuer: p.issuer, audience: p.audience, subject: p.subject, claims: p.claims, max_age_seconds: p.maxAgeSeconds,
    jwks_kids: p.jwks === null ? null : p.jwks.keys.map((k) => (typeof k.kid === 'string' ? k.kid : null)),
  }
}

/** The account's policies, oldest first; an unknown account is an error, not an empty list. */
export async function listFederationPolicies(deps: { store: Pick<Store, 'accounts' | 'federationPolicies'> }, input: { accountId: string }): Promise<FederationPolicy[]> {
  const account = await getAccount(deps.store, input.accountId)
  return deps.store.federationPolicies.listByAccount(account.id)
}

/** The account's policy with this id; another account's is not found. */
export async function getFederationPolicy(deps: { store: Pick<Store, 'federationPolicies'> }, input: { accountId: AccountId; id: string }): Promise<FederationPolicy> {
  const policy = await deps.store.federationPolicies.findById(requireUuid<FederationPolicyId>(input.id, 'federation policy id'))
  if (!policy || policy.accountId !== input.accountId) throw new NotFound('KEYMINT_FEDERATION_POLICY_NOT_FOUND', `federation policy ${input.id} not found`)
  return policy
}

/** Deletes the policy: no token is issued through it any more, and those it led to are refused. */
export async function deleteFederationPolicy(
  deps: { store: Store; clock: Clock },
  input: { accountId: string; id: string; actor?: string; authority?: Authority },
): Promise<FederationPolicy> {
  return deps.store.transaction(async (tx) => {
    const account = await getAccount(tx, input.accountId)
    const policy = await getFederationPolicy({ store: tx }, { accountId: account.id, id: input.id })
    const client = await tx.clients.findById(policy.clientId)
    if (client) await assertMayManageKeyPairs(tx, client, input.authority)
    const now = deps.clock.now()
    if (!await tx.federationPolicies.markDeleted(policy.id, now)) throw new NotFound('KEYMINT_FEDERATION_POLICY_NOT_FOUND', `federation policy ${input.id} not found`)
    await tx.audit.insert([auditEvent({
      accountId: account.id, actor: input.actor ?? DEFAULT_ACTOR, action: 'federation_policy.deleted', target: policy.id,
      details: { client: policy.clientId, ...policyDetails(policy) }, createdAt: now,
    })])
    return { ...policy, deletedAt: now }
  })
}
