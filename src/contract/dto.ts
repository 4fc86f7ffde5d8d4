// Wire shapes of domain records (snake_case, ISO-8601 times, never a hash), shared by the REST API and the CLI's --json.
import type { ListedKeyPair } from '../domain/key-pairs.js'
import type { IssuedKeyPair } from '../domain/issue-key-pair.js'
import type { AuditEvent } from '../domain/audit.js'
import type { ServerKeyRecord } from '../domain/ports.js'
import type { ServerKeyState } from '../domain/server-keys.js'
import { keyPairEnd, type Account, type Api, type Client, type FederationPolicy, type User } from '../domain/types.js'

function iso(d: Date): string
function iso(d: Date | null): string | null
function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString()
}

export const presentAccount = (a: Account) => ({
  id: a.id, name: a.name, plan: a.plan, require_admin_second_factor: a.requireAdminSecondFactor,
  default_key_expires_in_seconds: a.defaultKeyExpiresIn, max_key_expires_in_seconds: a.maxKeyExpiresIn,
  created_at: iso(a.createdAt),
})

export const presentUser = (u: User) => ({
  id: u.id,
  account_id: u.accountId,
  email: u.email,
  role: u.role,
  permissions: u.permissions,
  scopes: u.scopes,
  disabled: u.disabled,
  created_at: iso(u.createdAt),
  updated_at: iso(u.updatedAt),
})

export const presentClient = (c: Client) => ({
  id: c.id,
  account_id: c.accountId,
  name: c.name,
  level: c.level,
  user_id: c.userId,
  scopes: c.scopes,
  lifetime_seconds: c.lifetimeSeconds,
  token_encryption: c.tokenEncryption,
  public_jwk: c.publicJwk,
  signing_alg: c.signingAlg,
  allow_secret: c.secretAuth,
  require_dpop: c.requireDPoP,
  disabled: c.disabled,
  rate_limit: c.rateLimit,
  quota: c.quota,
  quota_mode: c.quotaMode,
  created_at: iso(c.createdAt),
})

/** A registered API; of its encryption key only the thumbprint and algorithm (the key itself is public anyway). */
export const presentApi = (a: Api) => ({
  id: a.id,
  account_id: a.accountId,
  identifier: a.identifier,
  name: a.name,
  encryption_kid: a.encryption?.kid ?? null,
  encryption_alg: a.encryption?.alg ?? null,
  created_at: iso(a.createdAt),
})

/** The one shape that carries a secret: printed once, right after it was generated. */
export const presentIssuedKeyPair = (k: IssuedKeyPair) => ({
  client_id: k.id,
  // Absent for a client that authenticates with its public key alone.
  ...(k.secretShown ? { client_secret: k.secret } : {}),
  created_at: iso(k.createdAt),
  expires_at: iso(k.lifetimeEndsAt),
})

export const presentKeyPair = (k: ListedKeyPair) => ({
  client_id: k.id,
  state: k.status.state,
  created_at: iso(k.createdAt),
  expires_at: iso(keyPairEnd(k)),
  revoked_at: iso(k.status.state === 'revoked' ? k.status.since : null),
  last_used_at: iso(k.lastUsedAt),
  last_used_address: k.lastUsedAddress,
  last_used_user_agent: k.lastUsedUserAgent,
  tokens_issued: k.tokensIssued,
})

export const presentServerKey = (k: ServerKeyRecord, state: ServerKeyState | undefined) => ({
  kid: k.kid,
  use: k.use,
  alg: k.alg,
  state: state ?? 'unpublished',
  created_at: k.createdAt.toISOString(),
  activates_at: k.activatesAt.toISOString(),
  retired_at: iso(k.retiredAt),
})

export const presentAuditEvent = (e: AuditEvent) => ({
  id: e.id,
  time: e.createdAt.toISOString(),
  account_id: e.accountId,
  actor: e.actor,
  action: e.action,
  target: e.target,
  reason: e.reason,
  count: e.count,
  details: e.details,
})

/** A trust policy; its `id` is the `client_id` of the tokens issued through it. */
export const presentFederationPolicy = (p: FederationPolicy) => ({
  id: p.id,
  account_id: p.accountId,
  client: p.clientId,
  issuer: p.issuer,
  audience: p.audience,
  subject: p.subject,
  claims: { ...p.claims },
  jwks: p.jwks === null ? null : { keys: p.jwks.keys.map((k) => ({ ...k })) },
  max_age_seconds: p.maxAgeSeconds,
  created_at: iso(p.createdAt),
})
