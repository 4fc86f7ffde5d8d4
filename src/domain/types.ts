import type { EncryptionPublicKey } from '../crypto/encryption-public-keys.js'
import type { SigningAlg } from '../crypto/jws.js'

// Domain records. Ids are branded so an account id can never be passed where a client id is due.
export type AccountId = string & { readonly __brand: 'AccountId' }
export type UserId = string & { readonly __brand: 'UserId' }
/** A client's own id (`Client.id`, the `{id}` in /api/v1/clients/{id}). Never a wire `client_id`. */
export type ClientId = string & { readonly __brand: 'ClientId' }
/**
 * A key pair's id: what OAuth calls `client_id` on the wire (token requests, Basic credentials,
 * the `client_id` claim, introspection, the revocation feed). A client has several key pairs.
 */
export type KeyPairId = string & { readonly __brand: 'KeyPairId' }
export type ApiId = string & { readonly __brand: 'ApiId' }

export type Plan = 'enterprise' | 'standard'
export type Role = 'admin' | 'member'
export type Permission = 'ui' | 'api'
export type ClientLevel = 'user' | 'subscription'
/** Key management algorithms for encrypted (nested JWE) access tokens. */
export type TokenEncryptionAlg = 'RSA-OAEP-256' | 'RSA-OAEP-384' | 'RSA-OAEP-512'

export const PLANS: readonly Plan[] = ['enterprise', 'standard']
export const ROLES: readonly Role[] = ['admin', 'member']
export const PERMISSIONS: readonly Permission[] = ['ui', 'api']
export const CLIENT_LEVELS: readonly ClientLevel[] = ['user', 'subscription']
export const TOKEN_ENCRYPTION_ALGS: readonly TokenEncryptionAlg[] = ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512']

/** The window a rate limit counts token requests in. */
export type RatePeriod = 'second' | 'minute' | 'hour'
/** The window a quota counts tokens in: a UTC calendar day or month. */
export type QuotaPeriod = 'day' | 'month'
/** `enforce`: over a limit is refused; `monitor`: only counted, audited and measured. */
export type LimitMode = 'enforce' | 'monitor'
export const RATE_PERIODS: readonly RatePeriod[] = ['second', 'minute', 'hour']
export const QUOTA_PERIODS: readonly QuotaPeriod[] = ['day', 'month']
export const LIMIT_MODES: readonly LimitMode[] = ['enforce', 'monitor']

/** At most `requests` token requests per `per`, on each server instance. */
export interface RateLimit { readonly requests: number; readonly per: RatePeriod }
/** At most `tokens` tokens per `per`, across every instance. */
export interface Quota { readonly tokens: number; readonly per: QuotaPeriod }

export interface Account {
  readonly id: AccountId
  readonly name: string
  readonly plan: Plan
  readonly createdAt: Date
  /** Every admin must sign in with a second factor; one without is made to enroll. */
  readonly requireAdminSecondFactor: boolean
  /** Lifetime in seconds of a new key pair when none is asked for; null: new pairs never expire. */
  readonly defaultKeyExpiresIn: number | null
  /** Longest lifetime in seconds a new key pair may have; null: no limit. */
  readonly maxKeyExpiresIn: number | null
}

export interface User {
  readonly id: UserId
  readonly accountId: AccountId
  readonly email: string
  readonly role: Role
  readonly permissions: readonly Permission[]
  readonly scopes: readonly string[]
  readonly disabled: boolean
  readonly createdAt: Date
  readonly updatedAt: Date
  /** When the user last lost the right to act: tokens issued until then stay refused for good. */
  readonly tokensCutOffAt: Date | null
}

export interface Client {
  readonly id: ClientId
  readonly accountId: AccountId
  readonly name: string
  readonly level: ClientLevel
  /** The user a user-level client acts as; null for subscription-level clients. */
  readonly userId: UserId | null
  /** Scopes the client may be granted; null means unrestricted (everything its owner may have). */
  readonly scopes: readonly string[] | null
  /** Token lifetime override in seconds; null uses the endpoint's default. */
  readonly lifetimeSeconds: number | null
  /** JWE algorithm every token of this client is encrypted with; null for signed-only tokens. */
  readonly tokenEncryption: TokenEncryptionAlg | null
  /** Public JWK for private_key_jwt client authentication; null when the client uses secrets only. */
  readonly publicJwk: Readonly<Record<string, string>> | null
  /** Signing algorithm of this client's tokens; null uses the server's default. */
  readonly signingAlg: SigningAlg | null
  /** Whether its secret authenticates it; a client with a public key alone uses private_key_jwt only. */
  readonly secretAuth: boolean
  /** Gets DPoP-bound tokens only (RFC 9449): a token request without a proof is refused. */
  readonly requireDPoP: boolean
  readonly createdAt: Date
  /** A disabled client gets no tokens. */
  readonly disabled: boolean
  /** When it was last disabled: tokens issued until then stay refused for good. */
  readonly tokensCutOffAt: Date | null
  /** Token requests per instance and window; null: no rate limit. */
  readonly rateLimit: RateLimit | null
  /** Tokens per calendar window across instances; null: no quota. */
  readonly quota: Quota | null
  /** What going over the rate limit or the quota does. */
  readonly quotaMode: LimitMode
}

/** An API (resource server) of an account; `identifier` is the URI tokens carry in `aud`. */
export interface Api {
  readonly id: ApiId
  readonly accountId: AccountId
  readonly identifier: string
  readonly name: string
  /** The API's public key: every token for it is encrypted to this key; null for signed-only tokens. */
  readonly encryption: EncryptionPublicKey | null
  readonly createdAt: Date
}

export interface KeyPair {
  readonly id: KeyPairId
  readonly clientId: ClientId
  readonly createdAt: Date
  /** End of a rotation grace period; the pair stops working then. */
  readonly expiresAt: Date | null
  readonly revokedAt: Date | null
  /** When the pair expires: its lifetime, set when it was issued; null: never. */
  readonly lifetimeEndsAt: Date | null
  readonly lastUsedAt: Date | null
  /** The address the last use came from (through KEYMINT_TRUST_PROXY); null before the first. */
  readonly lastUsedAddress: string | null
  /** The User-Agent of the last use, shortened and stripped of control characters. */
  readonly lastUsedUserAgent: string | null
  /** Tokens issued with this pair, as of the last usage flush. */
  readonly tokensIssued: number
}

export type KeyPairState =
  | { readonly state: 'active' }
  | { readonly state: 'grace'; readonly until: Date }
  | { readonly state: 'revoked'; readonly since: Date }
  | { readonly state: 'expired'; readonly since: Date }

/**
 * Where a pair stands at `now`. Of the ends that have come (revoked, grace ended, lifetime over)
 * the first decides: a pair revoked before its lifetime ran out is revoked, not expired.
 */
export function keyPairState(pair: Pick<KeyPair, 'expiresAt' | 'revokedAt' | 'lifetimeEndsAt'>, now: Date): KeyPairState {
  // On the token path for every request: numbers compared, no Date coerced.
  const t = now.getTime()
  const lifetime = pair.lifetimeEndsAt === null ? Infinity : pair.lifetimeEndsAt.getTime()
  const revoked = pair.revokedAt === null ? Infinity : pair.revokedAt.getTime()
  const graceEnd = pair.expiresAt === null ? Infinity : pair.expiresAt.getTime()
  if (revoked <= t && !(lifetime <= t && lifetime < revoked)) return { state: 'revoked', since: pair.revokedAt as Date }
  if (graceEnd <= t && !(lifetime <= t && lifetime < graceEnd)) return { state: 'revoked', since: pair.expiresAt as Date }
  if (lifetime <= t) return { state: 'expired', since: pair.lifetimeEndsAt as Date }
  if (pair.expiresAt) return { state: 'grace', until: pair.expiresAt }
  return { state: 'active' }
}

/** Whether a pair in this state authenticates: refused once revoked or expired alike. */
export const keyPairWorks = (state: KeyPairState): boolean => state.state === 'active' || state.state === 'grace'

/** When the pair stops working on its own, unless revoked first: its grace's end or its lifetime's, whichever comes first. */
export function keyPairEnd(pair: Pick<KeyPair, 'expiresAt' | 'lifetimeEndsAt'>): Date | null {
  if (pair.expiresAt === null) return pair.lifetimeEndsAt
  if (pair.lifetimeEndsAt === null) return pair.expiresAt
  return pair.expiresAt < pair.lifetimeEndsAt ? pair.expiresAt : pair.lifetimeEndsAt
}

/** Everything the token path needs about one presented client_id, read in one lookup. */
export interface ClientCredential {
  readonly keyPair: Pick<KeyPair, 'id' | 'expiresAt' | 'revokedAt' | 'lifetimeEndsAt'> & { readonly secretHash: Buffer }
  readonly client: Client
  readonly accountPlan: Plan
  readonly user: Pick<User, 'id' | 'role' | 'permissions' | 'scopes' | 'disabled' | 'tokensCutOffAt'> | null
}

export type FederationPolicyId = string & { readonly __brand: 'FederationPolicyId' }

/** A public key as an issuer publishes it in a JWKS (RFC 7517); only public members are kept. */
export type PublicJwk = Readonly<Record<string, unknown>>

/**
 * A trust policy: tokens that `issuer` signs for `audience`, whose `sub` matches `subject`
 * (exact, or a glob with `*`) and whose `claims` hold exactly these values, stand in for a key
 * pair of `clientId`. The policy's id is the `client_id` of the tokens it leads to.
 */
export interface FederationPolicy {
  readonly id: FederationPolicyId
  readonly accountId: AccountId
  readonly clientId: ClientId
  readonly issuer: string
  readonly audience: string
  readonly subject: string
  /** Claim name (or `/`-separated path into nested objects) → the exact string it must hold. */
  readonly claims: Readonly<Record<string, string>>
  /** The issuer's keys, given with the policy; null: fetched through OpenID discovery. */
  readonly jwks: { readonly keys: readonly PublicJwk[] } | null
  /** Tokens issued (`iat`) longer ago than this are refused; null: only `exp` counts. */
  readonly maxAgeSeconds: number | null
  readonly createdAt: Date
  /** Set once deleted: tokens issued through it are refused from then on. */
  readonly deletedAt: Date | null
}
