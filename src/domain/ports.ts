import type { AuditStore } from './audit.js'
import type {
  Api,
  Account, AccountId, Client, ClientCredential, ClientId, FederationPolicy, FederationPolicyId, KeyPair, KeyPairId, User, UserId,
} from './types.js'

export interface Clock { now(): Date }

export interface AccountStore {
  insert(account: Account): Promise<Account>
  findById(id: AccountId): Promise<Account | undefined>
  /** Every account, oldest first. */
  listAll(): Promise<Account[]>
  count(): Promise<number>
  /** Undefined when there is no such account. */
  setRequireAdminSecondFactor(id: AccountId, required: boolean): Promise<Account | undefined>
  /** Changes the fields given; undefined when there is no such account. */
  update(id: AccountId, patch: AccountPatch): Promise<Account | undefined>
}

export type AccountPatch = Partial<Pick<Account, 'requireAdminSecondFactor' | 'defaultKeyExpiresIn' | 'maxKeyExpiresIn'>>

export interface UserPatch {
  readonly permissions?: User['permissions']
  readonly scopes?: User['scopes']
  readonly disabled?: boolean
  readonly tokensCutOffAt?: Date
  readonly updatedAt: Date
}

/** A user who can sign in, with what the password check needs. */
export interface UserSignIn {
  readonly user: User
  readonly passwordHash: string
  readonly passwordChangeRequired: boolean
}

export interface UserStore {
  insert(user: User): Promise<User>
  /** Users with this email (any account) who have a password. */
  findSignIn(email: string): Promise<UserSignIn[]>
  /** Whether the user has a password, and whether it must be replaced at the next sign-in. */
  findPasswordState(id: UserId): Promise<{ hasPassword: boolean; changeRequired: boolean } | undefined>
  setPassword(id: UserId, hash: string, changeRequired: boolean, at: Date): Promise<void>
  /**
   * The same password hashed again (at a higher cost), only while `current` is still the stored
   * hash: a password changed meanwhile is never replaced by the old one. Whether it was replaced.
   */
  replacePasswordHash(id: UserId, current: string, rehashed: string): Promise<boolean>
  findById(id: UserId): Promise<User | undefined>
  update(id: UserId, patch: UserPatch): Promise<User | undefined>
  listByAccount(accountId: AccountId): Promise<User[]>
  /** Users of the account cut off after `since`, and when. */
  listCutOffForAccount(accountId: AccountId, since: Date): Promise<{ id: UserId; tokensCutOffAt: Date }[]>
}

/** Reads see no deleted client; a deleted one keeps its row (audit log, revocation feed). */
export interface ClientStore {
  insert(client: Client): Promise<Client>
  findById(id: ClientId): Promise<Client | undefined>
  listByAccount(accountId: AccountId): Promise<Client[]>
  update(id: ClientId, patch: ClientPatch): Promise<Client | undefined>
  /** Marks the client deleted; false when there is no such client (or it was deleted before). */
  markDeleted(id: ClientId, at: Date): Promise<boolean>
  /** Clients of the account (deleted ones too) cut off after `since`, and when. */
  listCutOffForAccount(accountId: AccountId, since: Date): Promise<{ id: ClientId; tokensCutOffAt: Date }[]>
}

export type ClientPatch = Partial<Pick<Client, 'name' | 'scopes' | 'lifetimeSeconds' | 'tokenEncryption' | 'publicJwk' | 'signingAlg' | 'secretAuth' | 'requireDPoP' | 'disabled' | 'rateLimit' | 'quota' | 'quotaMode'>> & {
  readonly tokensCutOffAt?: Date
}

/** The reminders of a key pair's expiry: so many days before, and the expiry itself. */
export type ExpiryHorizon = '30d' | '7d' | '1d' | 'expired'

/** A pair that will expire by its lifetime (nothing else ends it first), with the reminders sent so far. */
export interface ExpiringKeyPair {
  readonly id: KeyPairId
  readonly clientId: ClientId
  readonly clientName: string
  readonly accountId: AccountId
  readonly lifetimeEndsAt: Date
  readonly noticesSent: readonly ExpiryHorizon[]
}

export interface NewKeyPair extends Omit<KeyPair, 'lastUsedAt' | 'lastUsedAddress' | 'lastUsedUserAgent' | 'tokensIssued'> {
  readonly secretHash: Buffer
  /** Id of the hashing key (derived from the master key) the hash was made with. */
  readonly hashKeyId: string
}

export interface KeyPairStore {
  insert(pair: NewKeyPair): Promise<void>
  listByClient(clientId: ClientId): Promise<KeyPair[]>
  /**
   * Ends every pair of the client still usable at `at`: revoked now, or expiring at `expiresAt`
   * (a pair already ending sooner keeps its end). Returns each pair and when it really ends.
   */
  endLive(clientId: ClientId, at: Date, expiresAt: Date | null): Promise<{ id: KeyPairId; endsAt: Date }[]>
  /** Revokes one pair of the client if it still works at `at` (in a grace too); whether it did. */
  revokeOne(clientId: ClientId, id: KeyPairId, at: Date): Promise<boolean>
  /** Makes one pair of the client that is in its grace at `at` active again (its end cleared); whether it did. */
  clearGrace(clientId: ClientId, id: KeyPairId, at: Date): Promise<boolean>
  /** The hot-path read: key pair, client, plan and user in one indexed lookup. */
  findCredential(id: KeyPairId): Promise<ClientCredential | undefined>
  /** The account's key pairs that stopped working (revoked, grace ended) after `since`, by `now`. */
  listEndedForAccount(accountId: AccountId, since: Date, now: Date): Promise<{ id: KeyPairId; endedAt: Date }[]>
  /** Key pairs still live at `now` of user-level clients acting as these users. */
  listLiveForUsers(userIds: readonly UserId[], now: Date): Promise<{ id: KeyPairId; userId: UserId }[]>
  /** Replaces a secret's hash, made again under the current master key. */
  replaceSecretHash(id: KeyPairId, hash: Buffer, hashKeyId: string): Promise<void>
  /** Live key pairs whose hash was not made under `hashKeyId`. */
  countLiveHashedOtherwise(hashKeyId: string, now: Date): Promise<number>
  /**
   * Adds the tokens issued since the previous call, per key pair, and moves its last use (time,
   * address, User-Agent) forward to this one unless another instance wrote a later one.
   */
  recordUsage(uses: ReadonlyMap<KeyPairId, KeyPairUse>): Promise<void>
  /**
   * Pairs of clients not deleted whose lifetime ends at or before `until` and that nothing ends
   * sooner (revocation, a grace), except those whose expiry was announced already; soonest first.
   */
  listExpiring(query: { until: Date; accountId?: AccountId }): Promise<ExpiringKeyPair[]>
  /** Records that a reminder went out; false when it had been recorded before (by this instance or another). */
  recordExpiryNotice(id: KeyPairId, horizon: ExpiryHorizon, at: Date): Promise<boolean>
}

/** A key pair's use since the last flush, as written. */
export interface KeyPairUse {
  readonly lastUsedAt: Date
  readonly address: string | null
  readonly userAgent: string | null
  readonly tokens: number
}

/** A client's tokens counted towards its quota on one UTC day (the first millisecond of it). */
export interface ClientDayCount {
  readonly clientId: ClientId
  readonly day: number
  readonly tokens: number
}

/** Which limit a client went over, in which window: what is noted once, whichever instance saw it. */
export interface LimitOverrun {
  readonly clientId: ClientId
  readonly limit: 'rate' | 'quota'
  readonly windowStart: Date
  readonly windowEnd: Date
}

/** What quotas are counted with across instances, and the once-per-window note of an overrun. */
export interface ClientUsageStore {
  /** Adds these counts to the stored ones (one row per client and day). */
  addTokenCounts(counts: readonly ClientDayCount[]): Promise<void>
  /** The stored counts of these clients from `fromDay` on. */
  listTokenCounts(clientIds: readonly ClientId[], fromDay: number): Promise<ClientDayCount[]>
  /** Notes the overrun; false when it was noted before (by this or another instance). */
  noteOverrun(overrun: LimitOverrun, at: Date): Promise<boolean>
  /** Forgets day counts before `beforeDay` and overrun notes of windows ended by `now`. */
  prune(beforeDay: number, now: Date): Promise<void>
}

export interface ServerKeyRecord {
  readonly kid: string
  /** `sig` signs access tokens; `enc` is the RSA key encrypted tokens are encrypted to. */
  readonly use: 'sig' | 'enc'
  readonly alg: string
  readonly publicJwk: Readonly<Record<string, unknown>>
  /** Private key, encrypted under the master key; never leaves the store in clear. */
  readonly privateKeySealed: string
  readonly createdAt: Date
  /** When a signing key starts signing; it is published from creation on. */
  readonly activatesAt: Date
  /** When the key stopped being used; it stays published while tokens it signed may live. */
  readonly retiredAt: Date | null
}

export interface ServerKeyStore {
  insert(key: ServerKeyRecord): Promise<void>
  /** Every key, newest first. */
  listAll(): Promise<ServerKeyRecord[]>
  /** Replaces a key's sealed private part (after a master key rotation). */
  reseal(kid: string, privateKeySealed: string): Promise<void>
  /** Marks a key retired; false when it does not exist or was retired already. */
  retire(kid: string, at: Date): Promise<boolean>
}

export interface RevokedToken {
  readonly jti: string
  readonly accountId: AccountId
  readonly expiresAt: Date
  readonly revokedAt: Date
}

export interface RevokedTokenStore {
  /** Records a revocation; revoking the same token twice is not an error. */
  insert(token: RevokedToken): Promise<void>
  /** Revocations recorded after `since`, oldest first, for caches to catch up. */
  listRevokedSince(since: Date, limit: number): Promise<RevokedToken[]>
  /** The account's revocations made after `since` whose tokens have not expired at `now`. */
  listForAccount(accountId: AccountId, since: Date, now: Date): Promise<RevokedToken[]>
  /** Drops rows whose tokens have expired anyway. */
  purgeExpired(now: Date): Promise<number>
}

export interface ClientAssertionStore {
  /** Remembers an assertion id until it expires; false when it was seen before (a replay). */
  remember(id: string, expiresAt: Date, now: Date): Promise<boolean>
}

/** Trust policies for workload identity federation. Reads see no deleted policy, except `findCredential`. */
export interface FederationPolicyStore {
  insert(policy: FederationPolicy): Promise<void>
  findById(id: FederationPolicyId): Promise<FederationPolicy | undefined>
  /** The account's policies (of clients not deleted), oldest first. */
  listByAccount(accountId: AccountId): Promise<FederationPolicy[]>
  /** Every policy that trusts this issuer, of clients not deleted, whatever the account. */
  listByIssuer(issuer: string): Promise<FederationPolicy[]>
  /** False when there was no such policy (or it was deleted before). */
  markDeleted(id: FederationPolicyId, at: Date): Promise<boolean>
  /** Deletes every policy of the client; their ids. */
  markDeletedForClient(clientId: ClientId, at: Date): Promise<FederationPolicyId[]>
  /**
   * What the token path needs to issue and check tokens through a policy, as for a key pair: the
   * policy stands in for the key pair (its id, `revokedAt` when it was deleted, no secret).
   */
  findCredential(id: FederationPolicyId): Promise<ClientCredential | undefined>
  /** The account's policies deleted after `since`, by `now`. */
  listEndedForAccount(accountId: AccountId, since: Date, now: Date): Promise<{ id: FederationPolicyId; endedAt: Date }[]>
  /** Policies (deleted ones too) of these clients, with when each was made. */
  listByClients(clientIds: readonly ClientId[]): Promise<{ id: FederationPolicyId; clientId: ClientId; createdAt: Date }[]>
  /** Live policies of user-level clients acting as these users. */
  listLiveForUsers(userIds: readonly UserId[]): Promise<{ id: FederationPolicyId; userId: UserId }[]>
}

export interface DPoPProofStore {
  /**
   * Remembers a DPoP proof id until `expiresAt`; false when it is remembered already (a replay).
   * An id whose time is over by `now` counts as new.
   */
  remember(id: string, expiresAt: Date, now: Date): Promise<boolean>
  /** Drops ids whose proofs are too old to be accepted anyway; how many. */
  purgeExpired(now: Date): Promise<number>
}

export interface ApiStore {
  insert(api: Api): Promise<Api>
  listByAccount(accountId: AccountId): Promise<Api[]>
  findByIdentifier(accountId: AccountId, identifier: string): Promise<Api | undefined>
}

export interface Session {
  /** Hash of the session id; the id itself exists only in the browser's cookie. */
  readonly idHash: string
  readonly userId: UserId
  readonly createdAt: Date
  readonly lastSeenAt: Date
  /** The absolute end, whatever the activity. */
  readonly expiresAt: Date
  readonly address: string
  readonly userAgent: string
  readonly revokedAt: Date | null
}

export interface SessionStore {
  insert(session: Session): Promise<void>
  findByIdHash(idHash: string): Promise<Session | undefined>
  touch(idHash: string, at: Date): Promise<void>
  /** False when there was no such live session. */
  revoke(idHash: string, at: Date): Promise<boolean>
  revokeAllForUser(userId: UserId, at: Date): Promise<number>
  /** The user's sessions still live at `now` (not revoked, not past their absolute end). */
  listLiveForUser(userId: UserId, now: Date): Promise<Session[]>
  /** Forgets the user's sessions that ended (revoked or past their end) before `before`. */
  deleteEndedForUser(userId: UserId, before: Date): Promise<number>
}

/** A user's TOTP, pending until a first code confirms it. */
export interface TotpRecord {
  /** The base32 secret, sealed under the master key; never leaves the store in clear. */
  readonly secretSealed: string
  /** Null while the enrollment waits for its first code. */
  readonly enabledAt: Date | null
  /** RFC 6238 time step of the last code accepted: no code of it or of an earlier step is taken. */
  readonly lastStep: number | null
}

/** TOTP secrets and recovery codes. Recovery codes are stored as hashes only. */
export interface SecondFactorStore {
  /** Undefined when the user has no TOTP, pending or enabled (or does not exist). */
  findTotp(userId: UserId): Promise<TotpRecord | undefined>
  /** Stores a secret that waits for confirmation, replacing a pending one; false when TOTP is enabled already. */
  setPendingTotp(userId: UserId, secretSealed: string): Promise<boolean>
  /** Enables the pending secret, `step` being that of the code that confirmed it; false when none is pending. */
  enableTotp(userId: UserId, step: number, at: Date): Promise<boolean>
  /** Records a code of `step` as accepted; false when one of that step or a later one was (a replay, or a race lost). */
  acceptTotpStep(userId: UserId, step: number): Promise<boolean>
  /** Removes the TOTP secret (pending or enabled) and every recovery code; false when there was no secret. */
  clear(userId: UserId, at: Date): Promise<boolean>
  /** The user's recovery codes become these, unused; the previous ones are gone. */
  replaceRecoveryCodes(userId: UserId, codeHashes: readonly string[], at: Date): Promise<void>
  /** Marks the user's unused code with this hash used; false when there is none. */
  useRecoveryCode(userId: UserId, codeHash: string, at: Date): Promise<boolean>
  countRecoveryCodesLeft(userId: UserId): Promise<number>
  /** Every stored TOTP secret, pending or enabled: what a master key rotation re-seals. */
  listSealedSecrets(): Promise<{ userId: UserId; secretSealed: string }[]>
  /** Replaces a user's sealed secret (after a master key rotation), leaving its state alone. */
  resealSecret(userId: UserId, secretSealed: string): Promise<void>
}

export type WebhookEventType =
  | 'key_pair.generated' | 'key_pair.rotated' | 'key_pair.rotation_finished' | 'key_pair.rotation_cancelled'
  | 'key_pair.revoked' | 'key_pair.expiring' | 'key_pair.expired' | 'user.disabled' | 'client.rate_limit_reached' | 'client.quota_reached' | 'webhook.test'

export interface WebhookEndpoint {
  readonly id: string
  readonly accountId: AccountId
  readonly url: string
  readonly events: readonly WebhookEventType[]
  /** The signing secret, sealed under the master key; shown in clear once, at registration. */
  readonly secretSealed: string
  readonly createdAt: Date
  readonly disabled: boolean
}

export interface NewWebhookDelivery {
  readonly id: string
  readonly endpointId: string
  readonly eventType: WebhookEventType
  /** The JSON body sent, as sent: the signature covers these exact bytes. */
  readonly payload: string
  readonly createdAt: Date
}

export interface WebhookDelivery extends NewWebhookDelivery {
  readonly attempts: number
  readonly nextAttemptAt: Date
  readonly deliveredAt: Date | null
  readonly failedAt: Date | null
  readonly lastStatus: number | null
  readonly lastError: string | null
}

/** A delivery claimed by one instance, with where to send it and the sealed secret to sign with. */
export interface ClaimedDelivery extends WebhookDelivery {
  readonly url: string
  readonly secretSealed: string
}

export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly at: Date; readonly status: number }
  | { readonly kind: 'retry'; readonly at: Date; readonly next: Date; readonly status: number | null; readonly error: string | null }
  | { readonly kind: 'failed'; readonly at: Date; readonly status: number | null; readonly error: string | null }

/** A claim's hold on deliveries: a random token of its own, and when the hold ends. */
export interface DeliveryLease {
  readonly token: string
  readonly until: Date
}

export interface WebhookStore {
  insertEndpoint(endpoint: WebhookEndpoint): Promise<void>
  /** The account's endpoints, oldest first. */
  listEndpoints(accountId: AccountId): Promise<WebhookEndpoint[]>
  findEndpoint(id: string): Promise<WebhookEndpoint | undefined>
  /** Removes the endpoint and its deliveries; false when there was none. */
  deleteEndpoint(id: string): Promise<boolean>
  /** Adds deliveries to the outbox, due at once. */
  enqueue(deliveries: readonly NewWebhookDelivery[]): Promise<void>
  /** The endpoint's deliveries, newest first. */
  listDeliveries(endpointId: string, limit: number): Promise<WebhookDelivery[]>
  /**
   * Claims up to `limit` deliveries due at `now` that no instance holds, under `lease`: two
   * instances never claim the same one while its lease runs.
   */
  claimDue(now: Date, lease: DeliveryLease, limit: number): Promise<ClaimedDelivery[]>
  /**
   * Moves the end of a delivery's lease to `lease.until` if `lease.token` still holds it; false
   * when it does not (its lease ran out and another claim took it, or it was recorded or removed).
   */
  extendLease(id: string, lease: DeliveryLease): Promise<boolean>
  /** Records an attempt and releases the lease, if `token` still holds it; false (nothing written) when not. */
  recordAttempt(id: string, token: string, outcome: DeliveryOutcome): Promise<boolean>
  /** Every endpoint's sealed secret: what a master key rotation re-seals. */
  listSealedSecrets(): Promise<{ id: string; secretSealed: string }[]>
  /** Replaces an endpoint's sealed secret (after a master key rotation). */
  resealSecret(id: string, secretSealed: string): Promise<void>
}

export interface Store {
  readonly accounts: AccountStore
  readonly users: UserStore
  readonly clients: ClientStore
  readonly keyPairs: KeyPairStore
  readonly serverKeys: ServerKeyStore
  readonly revokedTokens: RevokedTokenStore
  readonly audit: AuditStore
  readonly clientAssertions: ClientAssertionStore
  readonly dpopProofs: DPoPProofStore
  readonly apis: ApiStore
  readonly sessions: SessionStore
  readonly secondFactors: SecondFactorStore
  readonly webhooks: WebhookStore
  readonly federationPolicies: FederationPolicyStore
  readonly clientUsage: ClientUsageStore
  /**
   * Runs `fn` in one transaction; the store handed to `fn` writes inside it. With `lock`,
   * transactions naming the same lock run one after another across every server instance
   * (check-then-write sequences such as bootstrap or key rotation).
   */
  transaction<T>(fn: (tx: Store) => Promise<T>, opts?: { lock?: string }): Promise<T>
}

/** Client secrets: generated and hashed by crypto, injected so domain stays pure. */
export interface SecretService {
  generate(): string
  hash(secret: string): Buffer
  /** Identifies the hashing key in use (never the key itself). */
  readonly keyId: string
}
