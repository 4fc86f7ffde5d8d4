import type { Generated } from 'kysely'

// Row shapes as stored. Times are epoch milliseconds; lists are JSON text; flags are 0/1,
// so one schema serves SQLite and PostgreSQL alike.
export interface AccountsTable {
  id: string
  name: string
  plan: string
  created_at: number
  require_admin_second_factor: Generated<number>
  /** Lifetime in seconds of the account's new key pairs when none is asked for; null: they never expire. */
  default_key_expires_in: number | null
  /** Longest lifetime in seconds a new key pair may have; null: no limit. */
  max_key_expires_in: number | null
}

export interface UsersTable {
  id: string
  account_id: string
  email: string
  role: string
  permissions: string
  scopes: string
  disabled: number
  created_at: number
  updated_at: number
  tokens_cut_off_at: number | null
  password_hash: string | null
  password_change_required: Generated<number>
  /** The base32 TOTP secret, sealed under the master key; pending while `totp_enabled_at` is null. */
  totp_secret_sealed: string | null
  totp_enabled_at: number | null
  /** RFC 6238 time step of the last code accepted: codes of it or before it are refused. */
  totp_last_step: number | null
}

export interface RecoveryCodesTable {
  user_id: string
  /** SHA-256 of the code's canonical form: the code itself is shown once and never stored. */
  code_hash: string
  created_at: number
  used_at: number | null
}

export interface SessionsTable {
  /** SHA-256 of the session id: the id itself lives only in the browser's cookie. */
  id_hash: string
  user_id: string
  created_at: number
  last_seen_at: number
  expires_at: number
  address: string
  user_agent: string
  revoked_at: number | null
}

export interface ClientsTable {
  id: string
  account_id: string
  name: string
  level: string
  user_id: string | null
  scopes: string | null
  lifetime_seconds: number | null
  token_encryption: string | null
  public_jwk: string | null
  signing_alg: string | null
  secret_auth: Generated<number>
  created_at: number
  disabled: Generated<number>
  tokens_cut_off_at: number | null
  /** 1: tokens only with a DPoP proof (RFC 9449), bound to its key. */
  require_dpop: Generated<number>
  /** Set once the client is deleted: it is gone from every read but the audit log and revocation feed. */
  deleted_at: number | null
  /** Token requests per `rate_limit_per` (`second`, `minute`, `hour`); null: no rate limit. */
  rate_limit: number | null
  rate_limit_per: string | null
  /** Tokens per `quota_per` (`day`, `month`); null: no quota. */
  quota: number | null
  quota_per: string | null
  /** `enforce` or `monitor`. */
  quota_mode: Generated<string>
}

/** `id` is the `client_id` integrations present; `client_id` points at the owning client. */
export interface KeyPairsTable {
  id: string
  client_id: string
  secret_hash: Buffer
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  last_used_at: number | null
  /** Where the last use came from, and its User-Agent (shortened, printable): written with `last_used_at`. */
  last_used_address: string | null
  last_used_user_agent: string | null
  tokens_issued: Generated<number>
  hash_key_id: string | null
  /** When the pair expires (its lifetime, set at issue); null: never. `expires_at` is a grace's end. */
  lifetime_ends_at: number | null
}

/** One row per reminder sent: a pair and a horizon (`30d`, `7d`, `1d`, `expired`) are sent once. */
export interface KeyPairExpiryNoticesTable {
  key_pair_id: string
  horizon: string
  sent_at: number
}

export interface ServerKeysTable {
  kid: string
  use: string
  alg: string
  public_jwk: string
  private_key_sealed: string
  created_at: number
  activates_at: number | null
  retired_at: number | null
}

export interface RevokedTokensTable {
  jti: string
  account_id: string
  expires_at: number
  revoked_at: number
}

export interface AuditEventsTable {
  id: string
  account_id: string | null
  actor: string
  action: string
  target: string | null
  reason: string | null
  count: number
  details: string
  created_at: number
}

export interface UsedClientAssertionsTable {
  id: string
  expires_at: number
}

/** DPoP proofs accepted at the token endpoint, by a hash of key thumbprint and `jti`, until they are too old anyway. */
export interface UsedDPoPProofsTable {
  id: string
  expires_at: number
}

export interface ApisTable {
  id: string
  account_id: string
  identifier: string
  name: string
  /** Public JWK (with `kid`, its thumbprint) tokens for the API are encrypted to; null: signed only. */
  encryption_jwk: string | null
  encryption_alg: string | null
  created_at: number
}

export interface WebhookEndpointsTable {
  id: string
  account_id: string
  url: string
  /** JSON list of event types. */
  events: string
  /** The signing secret (`whsec_…`), sealed under the master key. */
  secret_sealed: string
  created_at: number
  disabled: Generated<number>
}

/** The outbox: one row per event and endpoint, until delivered or given up. */
export interface WebhookDeliveriesTable {
  id: string
  endpoint_id: string
  event_type: string
  payload: string
  created_at: number
  attempts: Generated<number>
  next_attempt_at: number
  /** While an instance is delivering it: no other instance claims it before then. */
  leased_until: number | null
  /** The claim holding the lease: only it may send the delivery and record the attempt. */
  lease_token: string | null
  delivered_at: number | null
  failed_at: number | null
  last_status: number | null
  last_error: string | null
}

/** A trust policy; `id` is the `client_id` of the tokens issued through it. */
export interface FederationPoliciesTable {
  id: string
  account_id: string
  /** The client's own id. */
  client_id: string
  issuer: string
  audience: string
  subject: string
  /** JSON object: claim name → the exact value required. */
  claims: string
  /** JSON Web Key Set given with the policy; null: fetched through discovery. */
  jwks: string | null
  max_age_seconds: number | null
  created_at: number
  deleted_at: number | null
}

/** Tokens counted towards quotas, per client and UTC day (`day`: its first millisecond). */
export interface ClientTokenCountsTable {
  client_id: string
  day: number
  tokens: number
}

/** One row per client, limit and window it went over: what makes the audit and webhook event happen once. */
export interface ClientLimitOverrunsTable {
  client_id: string
  limit_kind: string
  window_start: number
  window_end: number
  noted_at: number
}

export interface Database {
  accounts: AccountsTable
  users: UsersTable
  clients: ClientsTable
  key_pairs: KeyPairsTable
  server_keys: ServerKeysTable
  revoked_tokens: RevokedTokensTable
  audit_events: AuditEventsTable
  used_client_assertions: UsedClientAssertionsTable
  used_dpop_proofs: UsedDPoPProofsTable
  apis: ApisTable
  sessions: SessionsTable
  recovery_codes: RecoveryCodesTable
  webhook_endpoints: WebhookEndpointsTable
  webhook_deliveries: WebhookDeliveriesTable
  federation_policies: FederationPoliciesTable
  client_token_counts: ClientTokenCountsTable
  client_limit_overruns: ClientLimitOverrunsTable
  key_pair_expiry_notices: KeyPairExpiryNoticesTable
}
