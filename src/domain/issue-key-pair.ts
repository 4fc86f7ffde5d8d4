import { randomUUID } from 'node:crypto'
import type { KeyPairStore, SecretService } from './ports.js'
import type { ClientId, KeyPairId } from './types.js'

/** A freshly issued pair; the only place a client secret exists in clear. */
export interface IssuedKeyPair {
  readonly id: KeyPairId
  readonly secret: string
  readonly createdAt: Date
}

export async function issueKeyPair(
  deps: { keyPairs: KeyPairStore; secrets: SecretService },
  clientId: ClientId,
  now: Date,
): Promise<IssuedKeyPair> {
  const secret = deps.secrets.generate()
  const id = randomUUID() as KeyPairId
  await deps.keyPairs.insert({
    id, clientId, secretHash: deps.secrets.hash(secret), hashKeyId: deps.secrets.keyId, createdAt: now, expiresAt: null, revokedAt: null,
  })
  return { id, secret, createdAt: now }
}
