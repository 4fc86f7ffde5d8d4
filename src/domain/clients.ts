import { enqueueWebhookEvent } from './webhook-events.js'
import { randomUUID } from 'node:crypto'
import { assertPlanAllowsKeyPairs, getAccount } from './accounts.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { assertAdmin, assertMayGrant, assertMayTouch, managementPowerOf, type Authority } from './authority.js'
import { parseClientPublicKey, PublicKeyError } from '../crypto/public-keys.js'
import { requireLimitMode, requireQuota, requireRateLimit } from './client-limits.js'
import { InvalidInput, NotFound } from './errors.js'
import { issueKeyPair, type IssuedKeyPair } from './issue-key-pair.js'
import { keyLifetimeEnd, requireKeyExpiresIn } from './key-expiry.js'
import type { ClientPatch, Clock, SecretService, Store } from './ports.js'
import type { Client, ClientId, KeyPairId, LimitMode, Quota, RateLimit, UserId } from './types.js'
import { requireSigningAlg, requireLevel, requireLifetime, requireName, requireScopes, requireTokenEncryption, requireUuid } from './validation.js'

export interface NewClientInput {
  readonly accountId: string
  readonly name: string
  readonly level: string
  readonly userId?: string
  readonly scopes?: readonly string[]
  readonly lifetimeSeconds?: number
  readonly tokenEncryption?: string
  /** PEM or JWK text of a public key for private_key_jwt authentication. */
  readonly publicKey?: string
  /** Algorithm its tokens are signed with (default: the server's). */
  readonly signingAlg?: string
  /** Whether the secret authenticates it too; default: only when it has no public key. */
  readonly allowSecret?: boolean
  /** Tokens only with a DPoP proof (RFC 9449); default false. */
  readonly requireDPoP?: boolean
  /** Token requests per second, minute or hour on each instance; null or absent: none. */
  readonly rateLimit?: LimitInput<RateLimit>
  /** Tokens per UTC day or month across instances; null or absent: none. */
  readonly quota?: LimitInput<Quota>
  /** `enforce` (default) or `monitor`. */
  readonly quotaMode?: string
  /** Lifetime of its first key pair in seconds; default: the account's. */
  readonly keyExpiresIn?: number
  readonly actor?: string
  /** The management caller's; see authority.ts. */
  readonly authority?: Authority
}

/** A limit as it arrives from an edge: its period still unchecked text. */
type LimitInput<T extends RateLimit | Quota> = { readonly [K in keyof T]: K extends 'per' ? string : T[K] } | null

const rateLimitOf = (value: LimitInput<RateLimit>): RateLimit | null => value === null ? null : requireRateLimit(value)
const quotaOf = (value: LimitInput<Quota>): Quota | null => value === null ? null : requireQuota(value)

/** The limits as audit details: what an operator reads back. */
const limitDetails = (c: { rateLimit: RateLimit | null; quota: Quota | null; quotaMode: LimitMode }) => ({
  rate_limit: c.rateLimit, quota: c.quota, quota_mode: c.quotaMode,
})

export interface CreatedClient {
  readonly client: Client
  readonly keyPair: IssuedKeyPair
}

const NO_WAY_TO_AUTHENTICATE = 'a client without a public key authenticates with its secret: it cannot refuse secrets'

function requirePublicKey(text: string): Record<string, string> {
  try {
    return parseClientPublicKey(text)
  } catch (err) {
    if (err instanceof PublicKeyError) throw new InvalidInput('KEYMINT_INVALID_INPUT', `public key: ${err.message}`, { cause: err })
    throw err
  }
}

/** Creates a client and its first key pair in one transaction. */
export async function createClient(
  deps: { store: Store; clock: Clock; secrets: SecretService },
  input: NewClientInput,
): Promise<CreatedClient> {
  const name = requireName(input.name, 'client name')
  const level = requireLevel(input.level)
  const scopes = input.scopes === undefined ? null : requireScopes(input.scopes)
  const lifetimeSeconds = input.lifetimeSeconds === undefined ? null : requireLifetime(input.lifetimeSeconds)
  const tokenEncryption = input.tokenEncryption === undefined ? null : requireTokenEncryption(input.tokenEncryption)
  const publicJwk = input.publicKey === undefined ? null : requirePublicKey(input.publicKey)
  const signingAlg = input.signingAlg === undefined ? null : requireSigningAlg(input.signingAlg)
  const rateLimit = input.rateLimit === undefined ? null : rateLimitOf(input.rateLimit)
  const quota = input.quota === undefined ? null : quotaOf(input.quota)
  const quotaMode = input.quotaMode === undefined ? 'enforce' : requireLimitMode(input.quotaMode)
  if (level === 'user' && input.userId === undefined) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'a user-level client needs the user it acts as')
  }
  if (level === 'subscription' && input.userId !== undefined) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'a subscription-level client acts for the account, not a user')
  }
  const userId = input.userId === undefined ? null : requireUuid<UserId>(input.userId, 'user id')
  const secretAuth = input.allowSecret ?? publicJwk === null
  if (!secretAuth && publicJwk === null) throw new InvalidInput('KEYMINT_INVALID_INPUT', NO_WAY_TO_AUTHENTICATE)
  const keyExpiresIn = input.keyExpiresIn === undefined ? undefined : requireKeyExpiresIn(input.keyExpiresIn, 'key expiry')

  return deps.store.transaction(async (tx) => {
    const account = await getAccount(tx, input.accountId)
    assertPlanAllowsKeyPairs(account)
    const user = userId && await tx.users.findById(userId)
    if (userId && (!user || user.accountId !== account.id)) {
      throw new NotFound('KEYMINT_USER_NOT_FOUND', `user ${userId} not found in account ${account.id}`)
    }
    assertMayGrant(input.authority, managementPowerOf({ level, scopes }, user || null), 'a client holding keymint: scopes')
    const now = deps.clock.now()
    const lifetimeEndsAt = keyLifetimeEnd(account, keyExpiresIn, now)
    const client = await tx.clients.insert({
      id: randomUUID() as ClientId,
      accountId: account.id,
      name,
      level,
      userId,
      scopes,
      lifetimeSeconds,
      tokenEncryption,
      publicJwk,
      signingAlg,
      secretAuth,
      requireDPoP: input.requireDPoP === true,
      createdAt: now,
      disabled: false,
      tokensCutOffAt: null,
      rateLimit,
      quota,
      quotaMode,
    })
    const keyPair = await issueKeyPair({ keyPairs: tx.keyPairs, secrets: deps.secrets }, client, now, lifetimeEndsAt)
    const actor = input.actor ?? DEFAULT_ACTOR
    const expiresAt = lifetimeEndsAt?.toISOString() ?? null
    await tx.audit.insert([
      auditEvent({ accountId: account.id, actor, action: 'client.created', target: client.id, details: { level, userId, scopes, ...(input.requireDPoP === true ? { requireDPoP: true } : {}), ...limitDetails(client) }, createdAt: now }),
      auditEvent({ accountId: account.id, actor, action: 'key_pair.created', target: client.id, details: { client_id: keyPair.id, expires_at: expiresAt }, createdAt: now }),
    ])
    await enqueueWebhookEvent(tx, { accountId: account.id, type: 'key_pair.generated', data: { client: client.id, client_id: keyPair.id, expires_at: expiresAt }, at: now })
    return { client, keyPair }
  })
}

/** Refuses a caller that would gain, through this client's key pairs, more than it holds. */
export async function assertMayManageKeyPairs(tx: Pick<Store, 'users'>, client: Client, authority: Authority | undefined): Promise<void> {
  if (!authority) return
  const user = client.userId === null ? null : await tx.users.findById(client.userId) ?? null
  assertMayTouch(authority, managementPowerOf(client, user), 'rotating or revoking the key pairs of a client that holds more than the caller')
}

export async function getClient(deps: { store: Pick<Store, 'clients'> }, id: string): Promise<Client> {
  const client = await deps.store.clients.findById(requireUuid<ClientId>(id, 'client id'))
  if (!client) throw new NotFound('KEYMINT_CLIENT_NOT_FOUND', `client ${id} not found`)
  return client
}

/** The clients of an account, oldest first; an unknown account is an error, not an empty list. */
export async function listClients(deps: { store: Pick<Store, 'accounts' | 'clients'> }, input: { accountId: string }): Promise<Client[]> {
  const account = await getAccount(deps.store, input.accountId)
  return deps.store.clients.listByAccount(account.id)
}

/**
 * A client named by its id or by the client_id of one of its key pairs (printed beside it, and
 * what an integration holds): an admin may paste either.
 */
export async function getClientByIdOrKeyPair(deps: { store: Pick<Store, 'clients' | 'keyPairs'> }, id: string): Promise<Client> {
  const uuid = requireUuid<string>(id, 'client id')
  const client = await deps.store.clients.findById(uuid as ClientId) ?? (await deps.store.keyPairs.findCredential(uuid as KeyPairId))?.client
  if (!client) throw new NotFound('KEYMINT_CLIENT_NOT_FOUND', `client ${id} not found`)
  return client
}

export interface ClientUpdateInput {
  readonly clientId: string
  readonly name?: string
  /** null: unrestricted. */
  readonly scopes?: readonly string[] | null
  readonly lifetimeSeconds?: number | null
  readonly tokenEncryption?: string | null
  /** PEM or JWK text; null removes the key (no more private_key_jwt). */
  readonly publicKey?: string | null
  readonly signingAlg?: string | null
  readonly allowSecret?: boolean
  readonly requireDPoP?: boolean
  /** null: no rate limit. */
  readonly rateLimit?: LimitInput<RateLimit>
  /** null: no quota. */
  readonly quota?: LimitInput<Quota>
  readonly quotaMode?: string
  readonly actor?: string
  readonly authority?: Authority
}

/** Changes a client's settings; the audit event names the fields that changed. */
export async function updateClient(deps: { store: Store; clock: Clock }, input: ClientUpdateInput): Promise<Client> {
  const patch: { -readonly [K in keyof ClientPatch]: ClientPatch[K] } = {}
  if (input.name !== undefined) patch.name = requireName(input.name, 'client name')
  if (input.scopes !== undefined) patch.scopes = input.scopes === null ? null : requireScopes(input.scopes)
  if (input.lifetimeSeconds !== undefined) patch.lifetimeSeconds = input.lifetimeSeconds === null ? null : requireLifetime(input.lifetimeSeconds)
  if (input.tokenEncryption !== undefined) patch.tokenEncryption = input.tokenEncryption === null ? null : requireTokenEncryption(input.tokenEncryption)
  if (input.publicKey !== undefined) patch.publicJwk = input.publicKey === null ? null : requirePublicKey(input.publicKey)
  if (input.signingAlg !== undefined) patch.signingAlg = input.signingAlg === null ? null : requireSigningAlg(input.signingAlg)
  if (input.allowSecret !== undefined) patch.secretAuth = input.allowSecret
  if (input.requireDPoP !== undefined) patch.requireDPoP = input.requireDPoP
  if (input.rateLimit !== undefined) patch.rateLimit = rateLimitOf(input.rateLimit)
  if (input.quota !== undefined) patch.quota = quotaOf(input.quota)
  if (input.quotaMode !== undefined) patch.quotaMode = requireLimitMode(input.quotaMode)
  return deps.store.transaction(async (tx) => {
    const client = await getClient({ store: tx }, input.clientId)
    const user = client.userId === null ? null : await tx.users.findById(client.userId) ?? null
    assertMayTouch(input.authority, managementPowerOf(client, user), 'changing a client that holds more than the caller')
    if (patch.scopes !== undefined) assertMayGrant(input.authority, managementPowerOf({ ...client, scopes: patch.scopes }, user), 'granting keymint: scopes')
    if (patch.publicJwk !== undefined) assertAdmin(input.authority, "changing a client's public key")
    // Dropping the requirement lets its next tokens work for whoever holds them, like a key change.
    if (patch.requireDPoP === false && client.requireDPoP) assertAdmin(input.authority, 'letting a client get tokens without DPoP')
    if ((patch.publicJwk === undefined ? client.publicJwk : patch.publicJwk) === null && !(patch.secretAuth ?? client.secretAuth)) {
      throw new InvalidInput('KEYMINT_INVALID_INPUT', `${NO_WAY_TO_AUTHENTICATE} (allow its secret, then rotate its key pair to get one)`)
    }
    const updated = await tx.clients.update(client.id, patch)
    if (!updated) throw new NotFound('KEYMINT_CLIENT_NOT_FOUND', `client ${input.clientId} not found`)
    await tx.audit.insert([auditEvent({
      accountId: client.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'client.updated', target: client.id,
      details: {
        fields: Object.keys(patch),
        ...(patch.requireDPoP === undefined ? {} : { requireDPoP: patch.requireDPoP }),
        ...(patch.rateLimit === undefined && patch.quota === undefined && patch.quotaMode === undefined ? {} : limitDetails(updated)),
      },
      createdAt: deps.clock.now(),
    })])
    return updated
  })
}
