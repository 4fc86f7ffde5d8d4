import { isWellFormedClientSecret } from '../../crypto/client-secrets.js'
import { isUuid } from '../../domain/validation.js'
import type { ClientCredential, KeyPairId } from '../../domain/types.js'
import { keyPairState } from '../../domain/types.js'
import { InvalidClient } from '../errors.js'

export type SecretAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'header'

export interface PresentedSecret {
  readonly method: SecretAuthMethod
  readonly clientId: string
  readonly clientSecret: string
}

export interface SecretAuthDeps {
  findCredential(id: KeyPairId): Promise<ClientCredential | undefined>
  secretMatches(secret: string, expectedHash: Buffer): boolean
  now(): Date
}

// One description for every failure: the response must not tell an unknown client from a wrong secret.
const FAILED = 'client authentication failed'
// Compared against when the client is unknown, so both paths do the same hashing work.
const DUMMY_HASH = Buffer.alloc(32)

/** RFC 6749 §2.3.1: authenticates a key pair by its client secret; one lookup, one HMAC. */
export async function authenticateWithSecret(deps: SecretAuthDeps, presented: PresentedSecret): Promise<ClientCredential> {
  if (!isUuid(presented.clientId)) throw new InvalidClient(FAILED, { detail: 'client_id is not a UUID' })
  if (!isWellFormedClientSecret(presented.clientSecret)) {
    throw new InvalidClient(FAILED, { detail: 'malformed secret' })
  }
  const credential = await deps.findCredential(presented.clientId as KeyPairId)
  const matches = deps.secretMatches(presented.clientSecret, credential?.keyPair.secretHash ?? DUMMY_HASH)
  if (!credential) throw new InvalidClient(FAILED, { detail: 'unknown client_id' })
  if (!matches) throw new InvalidClient(FAILED, { detail: 'secret mismatch' })
  if (keyPairState(credential.keyPair, deps.now()).state === 'revoked') {
    throw new InvalidClient(FAILED, { detail: 'key pair revoked or expired' })
  }
  return credential
}
