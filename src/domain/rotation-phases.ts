import { enqueueWebhookEvent } from './webhook-events.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import type { Authority } from './authority.js'
import { assertMayManageKeyPairs, getClient } from './clients.js'
import { InvalidState } from './errors.js'
import type { Clock, Store } from './ports.js'
import { keyPairState } from './types.js'
import type { Client, ClientId, KeyPair, KeyPairId } from './types.js'

// The second phase of a rotation with a grace (DESIGN §8, issue 15 item 2): either the new pair
// is fine and the grace ends now (finish), or it is not and the rotation is undone (cancel).

export interface FinishedRotation {
  readonly clientId: ClientId
  /** The newest pair, the only one left working. */
  readonly kept: KeyPairId
  /** The pairs whose grace ended now. */
  readonly revoked: KeyPairId[]
}

export interface CancelledRotation {
  readonly clientId: ClientId
  /** The newest pair, revoked. */
  readonly revoked: KeyPairId
  /** The pair it replaced, active again with no end. */
  readonly restored: KeyPairId
}

interface Rotation {
  /** The pair the rotation issued: the client's active one. */
  readonly current: KeyPair
  /** The pairs it replaced that still work, newest first. */
  readonly replaced: KeyPair[]
}

/** A rotation is in progress while the client has an active pair and pairs in a grace beside it. */
async function rotationInProgress(tx: Store, client: Client, now: Date): Promise<Rotation> {
  const pairs = await tx.keyPairs.listByClient(client.id)
  const current = pairs.find((p) => keyPairState(p, now).state === 'active')
  const replaced = pairs.filter((p) => keyPairState(p, now).state === 'grace')
  if (!current || replaced.length === 0) {
    const why = current ? 'no older pair is in a grace period (there was none, or it ended)' : 'it has no active key pair'
    throw new InvalidState('KEYMINT_NO_ROTATION_IN_PROGRESS', `client ${client.id} has no rotation in progress: ${why}`)
  }
  return { current, replaced }
}

/** Ends the grace of a rotation now: every older pair stops working, only the newest stays. */
export async function finishRotation(
  deps: { store: Store; clock: Clock },
  input: { clientId: string; actor?: string; authority?: Authority },
): Promise<FinishedRotation> {
  return deps.store.transaction(async (tx) => {
    const client = await getClient({ store: tx }, input.clientId)
    await assertMayManageKeyPairs(tx, client, input.authority)
    const now = deps.clock.now()
    const { current, replaced } = await rotationInProgress(tx, client, now)
    const revoked: KeyPairId[] = []
    for (const pair of replaced) if (await tx.keyPairs.revokeOne(client.id, pair.id, now)) revoked.push(pair.id)
    await tx.audit.insert([auditEvent({
      accountId: client.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'key_pair.rotation_finished', target: client.id,
      details: { client_id: current.id, revoked }, createdAt: now,
    })])
    await enqueueWebhookEvent(tx, { accountId: client.accountId, type: 'key_pair.rotation_finished', data: { client: client.id, client_id: current.id, revoked }, at: now })
    return { clientId: client.id, kept: current.id, revoked }
  }, { lock: `keymint:client:${input.clientId}` })
}

/**
 * Undoes a rotation still in its grace: the newest pair is revoked and the pair it replaced is
 * active again, its end cleared. Pairs older still (from an earlier rotation) keep their grace.
 */
export async function cancelRotation(
  deps: { store: Store; clock: Clock },
  input: { clientId: string; actor?: string; authority?: Authority },
): Promise<CancelledRotation> {
  return deps.store.transaction(async (tx) => {
    const client = await getClient({ store: tx }, input.clientId)
    await assertMayManageKeyPairs(tx, client, input.authority)
    const now = deps.clock.now()
    const { current, replaced } = await rotationInProgress(tx, client, now)
    // rotationInProgress found at least one; the newest is the one this rotation replaced.
    const restored = replaced[0] as KeyPair
    await tx.keyPairs.revokeOne(client.id, current.id, now)
    await tx.keyPairs.clearGrace(client.id, restored.id, now)
    await tx.audit.insert([auditEvent({
      accountId: client.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'key_pair.rotation_cancelled', target: client.id,
      details: { revoked: [current.id], restored: restored.id }, createdAt: now,
    })])
    await enqueueWebhookEvent(tx, {
      accountId: client.accountId, type: 'key_pair.rotation_cancelled', data: { client: client.id, revoked: [current.id], restored: restored.id }, at: now,
    })
    return { clientId: client.id, revoked: current.id, restored: restored.id }
  }, { lock: `keymint:client:${input.clientId}` })
}
