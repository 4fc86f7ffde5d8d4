import { randomUUID } from 'node:crypto'
import { assertPlanAllowsKeyPairs, getAccount } from './accounts.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { parseClientPublicKey, PublicKeyError } from '../crypto/public-keys.js'
import { InvalidInput, NotFound } from './errors.js'
import { issueKeyPair, type IssuedKeyPair } from './issue-key-pair.js'
import type { ClientPatch, Clock, SecretService, Store } from './ports.js'
import type { Client, ClientId, KeyPairId, UserId } from './types.js'
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
  readonly actor?: string
}

export interface CreatedClient {
  readonly client: Client
  readonly keyPair: IssuedKeyPair
}

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
  if (level === 'user' && input.userId === undefined) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'a user-level client needs the user it acts as')
  }
  if (level === 'subscription' && input.userId !== undefined) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'a subscription-level client acts for the account, not a user')
  }
  const userId = input.userId === undefined ? null : requireUuid<UserId>(input.userId, 'user id')

  return deps.store.transaction(async (tx) => {
    const account = await getAccount(tx, input.accountId)
    assertPlanAllowsKeyPairs(account)
    if (userId) {
      const user = await tx.users.findById(userId)
      if (!user || user.accountId !== account.id) {
        throw new NotFound('KEYMINT_USER_NOT_FOUND', `user ${userId} not found in account ${account.id}`)
      }
    }
    const now = deps.clock.now()
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
      createdAt: now,
    })
    const keyPair = await issueKeyPair({ keyPairs: tx.keyPairs, secrets: deps.secrets }, client.id, now)
    const actor = input.actor ?? DEFAULT_ACTOR
    await tx.audit.insert([
      auditEvent({ accountId: account.id, actor, action: 'client.created', target: client.id, details: { level, userId, scopes }, createdAt: now }),
      auditEvent({ accountId: account.id, actor, action: 'key_pair.created', target: client.id, details: { client_id: keyPair.id }, createdAt: now }),
    ])
    return { client, keyPair }
  })
}

export async function getClient(deps: { store: Pick<Store, 'clients'> }, id: string): Promise<Client> {
  const client = await deps.store.clients.findById(requireUuid<ClientId>(id, 'client id'))
  if (!client) throw new NotFound('KEYMINT_CLIENT_NOT_FOUND', `client ${id} not found`)
  return client
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
  readonly actor?: string
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
  return deps.store.transaction(async (tx) => {
    const client = await getClient({ store: tx }, input.clientId)
    const updated = await tx.clients.update(client.id, patch)
    if (!updated) throw new NotFound('KEYMINT_CLIENT_NOT_FOUND', `client ${input.clientId} not found`)
    await tx.audit.insert([auditEvent({
      accountId: client.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'client.updated', target: client.id,
      details: { fields: Object.keys(patch) }, createdAt: deps.clock.now(),
    })])
    return updated
  })
}
