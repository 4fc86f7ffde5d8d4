import { enqueueWebhookEvent } from './webhook-events.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { assertMayTouch, managementPowerOf, type Authority } from './authority.js'
import { getClient } from './clients.js'
import { NotFound } from './errors.js'
import type { Clock, Store } from './ports.js'
import type { Client, ClientId, KeyPairId } from './types.js'

export interface ClientStateInput {
  readonly clientId: string
  readonly actor?: string
  /** The management caller's; see authority.ts. */
  readonly authority?: Authority
}

/** The client, once the caller is known to hold at least what it holds. */
async function clientToChange(tx: Store, input: ClientStateInput, what: string): Promise<Client> {
  const client = await getClient({ store: tx }, input.clientId)
  const user = client.userId === null ? null : await tx.users.findById(client.userId) ?? null
  assertMayTouch(input.authority, managementPowerOf(client, user), `${what} a client that holds more than the caller`)
  return client
}

/**
 * A disabled client gets no tokens, and every token issued to it so far stays refused for good
 * (introspection, the revocation feed), as for a user cut off (DESIGN §1). Disabling a disabled
 * client changes nothing.
 */
export async function disableClient(deps: { store: Store; clock: Clock }, input: ClientStateInput): Promise<Client> {
  return deps.store.transaction(async (tx) => {
    const client = await clientToChange(tx, input, 'disabling')
    if (client.disabled) return client
    const now = deps.clock.now()
    const updated = await tx.clients.update(client.id, { disabled: true, tokensCutOffAt: now })
    if (!updated) throw new NotFound('KEYMINT_CLIENT_NOT_FOUND', `client ${input.clientId} not found`)
    await tx.audit.insert([auditEvent({
      accountId: client.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'client.disabled', target: client.id, createdAt: now,
    })])
    return updated
  }, { lock: `keymint:client:${input.clientId}` })
}

/** The client gets tokens again; those issued before it was disabled stay refused. */
export async function enableClient(deps: { store: Store; clock: Clock }, input: ClientStateInput): Promise<Client> {
  return deps.store.transaction(async (tx) => {
    const client = await clientToChange(tx, input, 'enabling')
    if (!client.disabled) return client
    const updated = await tx.clients.update(client.id, { disabled: false })
    if (!updated) throw new NotFound('KEYMINT_CLIENT_NOT_FOUND', `client ${input.clientId} not found`)
    await tx.audit.insert([auditEvent({
      accountId: client.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'client.enabled', target: client.id, createdAt: deps.clock.now(),
    })])
    return updated
  }, { lock: `keymint:client:${input.clientId}` })
}

export interface DeletedClient {
  readonly clientId: ClientId
  /** The key pairs that still worked and were revoked first. */
  readonly revoked: readonly KeyPairId[]
  readonly deletedAt: Date
}

/**
 * Revokes every live key pair of the client, then deletes it, in one transaction. The row is
 * kept, marked deleted: the audit log keeps naming it, its revoked pairs stay in the revocation
 * feed until every token they issued has expired, and none of its ids can come back.
 */
export async function deleteClient(deps: { store: Store; clock: Clock }, input: ClientStateInput): Promise<DeletedClient> {
  return deps.store.transaction(async (tx) => {
    const client = await clientToChange(tx, input, 'deleting')
    const now = deps.clock.now()
    const actor = input.actor ?? DEFAULT_ACTOR
    const revoked = (await tx.keyPairs.endLive(client.id, now, null)).map((e) => e.id)
    if (!await tx.clients.markDeleted(client.id, now)) throw new NotFound('KEYMINT_CLIENT_NOT_FOUND', `client ${input.clientId} not found`)
    // Its trust policies go with it: none may lead to tokens for a client that is gone.
    const policies = await tx.federationPolicies.markDeletedForClient(client.id, now)
    await tx.audit.insert([
      ...(revoked.length === 0 ? [] : [auditEvent({ accountId: client.accountId, actor, action: 'key_pair.revoked', target: client.id, details: { revoked }, createdAt: now })]),
      ...policies.map((id) => auditEvent({ accountId: client.accountId, actor, action: 'federation_policy.deleted', target: id, details: { client: client.id, with_client: true }, createdAt: now })),
      auditEvent({ accountId: client.accountId, actor, action: 'client.deleted', target: client.id, details: { name: client.name, level: client.level, revoked }, createdAt: now }),
    ])
    if (revoked.length > 0) await enqueueWebhookEvent(tx, { accountId: client.accountId, type: 'key_pair.revoked', data: { client: client.id, revoked }, at: now })
    return { clientId: client.id, revoked, deletedAt: now }
  }, { lock: `keymint:client:${input.clientId}` })
}
