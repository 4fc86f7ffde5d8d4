import { enqueueWebhookEvent } from './webhook-events.js'
import { assertPlanAllowsKeyPairs, getAccount } from './accounts.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import type { Authority } from './authority.js'
import { assertMayManageKeyPairs, getClient } from './clients.js'
import { issueKeyPair, type IssuedKeyPair } from './issue-key-pair.js'
import { keyLifetimeEnd, requireKeyExpiresIn } from './key-expiry.js'
import { InvalidInput, NotFound } from './errors.js'
import { requireUuid } from './validation.js'
import type { Clock, SecretService, Store } from './ports.js'
import { keyPairState } from './types.js'
import type { ClientId, KeyPair, KeyPairId, KeyPairState } from './types.js'

export const MAX_GRACE_SECONDS = 30 * 24 * 3600

export interface RotatedKeyPair {
  readonly clientId: ClientId
  readonly keyPair: IssuedKeyPair
  /** The pairs this rotation ended, and when they stop working. */
  readonly ended: readonly { id: KeyPairId; endsAt: Date }[]
}

/**
 * Issues a new pair and ends the old ones: at once, or when `graceSeconds` have passed
 * (second seed: "Generating a new key pair revokes access to the old key pair").
 */
export async function rotateKeyPair(
  deps: { store: Store; clock: Clock; secrets: SecretService },
  input: { clientId: string; graceSeconds?: number; keyExpiresIn?: number; actor?: string; authority?: Authority },
): Promise<RotatedKeyPair> {
  const grace = input.graceSeconds ?? 0
  if (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `grace must be between 0 s and ${MAX_GRACE_SECONDS} s`)
  }
  const keyExpiresIn = input.keyExpiresIn === undefined ? undefined : requireKeyExpiresIn(input.keyExpiresIn, 'key expiry')
  return deps.store.transaction(async (tx) => {
    const client = await getClient({ store: tx }, input.clientId)
    await assertMayManageKeyPairs(tx, client, input.authority)
    const account = await getAccount(tx, client.accountId)
    assertPlanAllowsKeyPairs(account)
    const now = deps.clock.now()
    const lifetimeEndsAt = keyLifetimeEnd(account, keyExpiresIn, now)
    const endsAt = new Date(now.getTime() + grace * 1000)
    const ended = await tx.keyPairs.endLive(client.id, now, grace > 0 ? endsAt : null)
    const keyPair = await issueKeyPair({ keyPairs: tx.keyPairs, secrets: deps.secrets }, client, now, lifetimeEndsAt)
    const expiresAt = lifetimeEndsAt?.toISOString() ?? null
    await tx.audit.insert([auditEvent({
      accountId: client.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'key_pair.rotated', target: client.id,
      details: { client_id: keyPair.id, ended: ended.map((e) => e.id), grace_seconds: grace, expires_at: expiresAt }, createdAt: now,
    })])
    await enqueueWebhookEvent(tx, {
      accountId: client.accountId, type: 'key_pair.rotated', at: now,
      data: { client: client.id, client_id: keyPair.id, expires_at: expiresAt, ended: ended.map((e) => ({ client_id: e.id, ends_at: e.endsAt.toISOString() })) },
    })
    return { clientId: client.id, keyPair, ended }
  }, { lock: `keymint:client:${input.clientId}` })
}

/** Revokes every pair of the client that still works, including those in a grace period. */
export async function revokeKeyPairs(
  deps: { store: Store; clock: Clock },
  input: { clientId: string; actor?: string; authority?: Authority },
): Promise<{ clientId: ClientId; revoked: KeyPairId[] }> {
  return deps.store.transaction(async (tx) => {
    const client = await getClient({ store: tx }, input.clientId)
    await assertMayManageKeyPairs(tx, client, input.authority)
    const now = deps.clock.now()
    const revoked = (await tx.keyPairs.endLive(client.id, now, null)).map((e) => e.id)
    await tx.audit.insert([auditEvent({
      accountId: client.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'key_pair.revoked', target: client.id,
      details: { revoked }, createdAt: now,
    })])
    if (revoked.length > 0) await enqueueWebhookEvent(tx, { accountId: client.accountId, type: 'key_pair.revoked', data: { client: client.id, revoked }, at: now })
    return { clientId: client.id, revoked }
  }, { lock: `keymint:client:${input.clientId}` })
}

/**
 * Revokes one key pair of the client now: the old pair of a rotation still in its grace ("end the
 * grace now"), or any one pair, leaving the others as they are. A pair that no longer works
 * changes nothing; a pair of another client is not found.
 */
export async function revokeKeyPair(
  deps: { store: Store; clock: Clock },
  input: { clientId: string; keyPairId: string; actor?: string; authority?: Authority },
): Promise<{ clientId: ClientId; revoked: KeyPairId[] }> {
  const keyPairId = requireUuid<KeyPairId>(input.keyPairId, 'client_id')
  return deps.store.transaction(async (tx) => {
    const client = await getClient({ store: tx }, input.clientId)
    await assertMayManageKeyPairs(tx, client, input.authority)
    if (!(await tx.keyPairs.listByClient(client.id)).some((p) => p.id === keyPairId)) {
      throw new NotFound('KEYMINT_KEY_PAIR_NOT_FOUND', `client ${client.id} has no key pair ${keyPairId}`)
    }
    const now = deps.clock.now()
    if (!await tx.keyPairs.revokeOne(client.id, keyPairId, now)) return { clientId: client.id, revoked: [] }
    await tx.audit.insert([auditEvent({
      accountId: client.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'key_pair.revoked', target: client.id,
      details: { revoked: [keyPairId] }, createdAt: now,
    })])
    await enqueueWebhookEvent(tx, { accountId: client.accountId, type: 'key_pair.revoked', data: { client: client.id, revoked: [keyPairId] }, at: now })
    return { clientId: client.id, revoked: [keyPairId] }
  }, { lock: `keymint:client:${input.clientId}` })
}

export interface ListedKeyPair extends KeyPair {
  readonly status: KeyPairState
}

export async function listKeyPairs(
  deps: { store: Store; clock: Clock },
  input: { clientId: string },
): Promise<{ clientId: ClientId; keyPairs: ListedKeyPair[] }> {
  const client = await getClient(deps, input.clientId)
  const now = deps.clock.now()
  const pairs = await deps.store.keyPairs.listByClient(client.id)
  return { clientId: client.id, keyPairs: pairs.map((p) => ({ ...p, status: keyPairState(p, now) })) }
}
