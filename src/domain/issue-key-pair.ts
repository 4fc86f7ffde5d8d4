import { randomUUID } from 'node:crypto'
import type { KeyPairStore, SecretService } from './ports.js'
import type { ClientId, KeyPairId } from './types.js'

/** A freshly issued pair; the only place a client secret exists in clear. */
export interface IssuedKeyPair {
  readonly id: KeyPairId
  readonly secret: string
  /** False for a client that authenticates with its public key alone: the secret is never shown. */
  readonly secretShown: boolean
  readonly createdAt: Date
  /** When it expires; null: never. */
  readonly lifetimeEndsAt: Date | null
}

export async function issueKeyPair(
  deps: { keyPairs: KeyPairStore; secrets: SecretService },
  client: { readonly id: ClientId; readonly secretAuth: boolean },
  now: Date,
  lifetimeEndsAt: Date | null,
): Promise<IssuedKeyPair> {
  const clientId = client.id
  // A key-only client still gets a secret's hash (the row needs one), but nobody ever sees it.
  const secret = deps.secrets.generate()
  const id = randomUUID() as KeyPairId
  await deps.keyPairs.insert({
    id, clientId, secretHash: deps.secrets.hash(secret), hashKeyId: deps.secrets.keyId, createdAt: now, expiresAt: null, revokedAt: null, lifetimeEndsAt,
  })
  return { id, secret, secretShown: client.secretAuth, createdAt: now, lifetimeEndsAt }
}
