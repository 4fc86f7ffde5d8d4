import { createClient, type CreatedClient } from './clients.js'
import { Forbidden } from './errors.js'
import { listKeyPairs, rotateKeyPair, type ListedKeyPair, type RotatedKeyPair } from './key-pairs.js'
import type { Clock, SecretService, Store } from './ports.js'
import { keyPairWorks, type Client, type User } from './types.js'

/**
 * Second seed: "Each admin user has a distinct API key pair and can generate a new key pair at
 * any time. Generating a new key pair revokes access to the old key pair." An admin's own pair
 * belongs to a user-level client acting as that admin: the oldest such client, made on first use.
 */
function assertAdminOwnsKeyPairs(user: User): void {
  if (user.role !== 'admin') throw new Forbidden('KEYMINT_ADMINS_ONLY', 'only admins have an API key pair of their own')
}

async function findOwnClient(store: Pick<Store, 'clients'>, user: User): Promise<Client | undefined> {
  const clients = await store.clients.listByAccount(user.accountId)
  return clients.find((c) => c.level === 'user' && c.userId === user.id)
}

/** The admin's own client and its key pairs that still work (none before the first is generated). */
export async function showOwnKeyPair(
  deps: { store: Store; clock: Clock },
  input: { user: User },
): Promise<{ client: Client; keyPairs: ListedKeyPair[] } | undefined> {
  assertAdminOwnsKeyPairs(input.user)
  const client = await findOwnClient(deps.store, input.user)
  if (!client) return undefined
  const { keyPairs } = await listKeyPairs(deps, { clientId: client.id })
  const working = keyPairs.filter((k) => keyPairWorks(k.status))
  // With none working, the newest expired pair stays in view: it tells why nothing works.
  const expired = keyPairs.find((k) => k.status.state === 'expired')
  return { client, keyPairs: working.length === 0 && expired ? [expired] : working }
}

/** Generates the admin's new key pair, ending the old one at once or after `graceSeconds`. */
export async function generateOwnKeyPair(
  deps: { store: Store; clock: Clock; secrets: SecretService },
  input: { user: User; graceSeconds?: number; keyExpiresIn?: number },
): Promise<{ client: Client } & Pick<RotatedKeyPair, 'keyPair' | 'ended'>> {
  assertAdminOwnsKeyPairs(input.user)
  const actor = `user:${input.user.id}`
  // One lock per admin: two clicks at once must not make two clients.
  return deps.store.transaction(async (tx) => {
    const inTx = { ...deps, store: tx }
    const existing = await findOwnClient(tx, input.user)
    if (!existing) {
      const created: CreatedClient = await createClient(inTx, {
        accountId: input.user.accountId, level: 'user', userId: input.user.id, name: `API key pair of ${input.user.email}`.slice(0, 200), actor,
        ...(input.keyExpiresIn === undefined ? {} : { keyExpiresIn: input.keyExpiresIn }),
      })
      return { client: created.client, keyPair: created.keyPair, ended: [] }
    }
    const rotated = await rotateKeyPair(inTx, {
      clientId: existing.id, actor,
      ...(input.graceSeconds === undefined ? {} : { graceSeconds: input.graceSeconds }),
      ...(input.keyExpiresIn === undefined ? {} : { keyExpiresIn: input.keyExpiresIn }),
    })
    return { client: existing, keyPair: rotated.keyPair, ended: rotated.ended }
  }, { lock: `keymint:own-key-pair:${input.user.id}` })
}
