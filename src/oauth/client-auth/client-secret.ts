import { isWellFormedClientSecret } from '../../crypto/client-secrets.js'
import { isUuid } from '../../domain/validation.js'
import type { ClientCredential, KeyPairId } from '../../domain/types.js'
import { keyPairState } from '../../domain/types.js'
import { ClientAuthenticationFailed, keyPairEndedReason } from '../errors.js'

export type SecretAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'header'

export interface PresentedSecret {
  readonly method: SecretAuthMethod
  readonly clientId: string
  readonly clientSecret: string
}

export interface SecretAuthDeps {
  findCredential(id: KeyPairId): Promise<ClientCredential | undefined>
  /** 'previous': the hash was made under a previous master key (a rotation is under way). */
  secretMatch(secret: string, expectedHash: Buffer): 'current' | 'previous' | null
  /** Re-hashes a secret that matched under a previous master key; runs after the response path. */
  rehash(id: KeyPairId, secret: string): void
  now(): Date
}

// Compared against when the client is unknown, so both paths do the same hashing work.
const DUMMY_HASH = Buffer.alloc(32)

/** RFC 6749 §2.3.1: authenticates a key pair by its client secret; one lookup, one HMAC. */
export async function authenticateWithSecret(deps: SecretAuthDeps, presented: PresentedSecret): Promise<ClientCredential> {
  // One response for every failure: a client cannot tell an unknown client_id from a wrong secret.
  if (!isUuid(presented.clientId)) throw new ClientAuthenticationFailed('malformed_client_id')
  // Looked up even when the secret is malformed, so that refusal reaches the client's account.
  const credential = await deps.findCredential(presented.clientId as KeyPairId)
  const wellFormed = isWellFormedClientSecret(presented.clientSecret)
  const matched = wellFormed ? deps.secretMatch(presented.clientSecret, credential?.keyPair.secretHash ?? DUMMY_HASH) : null
  if (!credential) throw new ClientAuthenticationFailed('unknown_client')
  if (!wellFormed) throw new ClientAuthenticationFailed('malformed_secret', credential.client.accountId)
  if (!matched) throw new ClientAuthenticationFailed('secret_mismatch', credential.client.accountId)
  // A client registered with a public key alone never authenticates with a secret.
  if (!credential.client.secretAuth) throw new ClientAuthenticationFailed('secret_not_allowed', credential.client.accountId)
  const ended = keyPairEndedReason(keyPairState(credential.keyPair, deps.now()))
  if (ended) throw new ClientAuthenticationFailed(ended, credential.client.accountId)
  if (credential.client.disabled) throw new ClientAuthenticationFailed('client_disabled', credential.client.accountId)
  if (matched === 'previous') deps.rehash(credential.keyPair.id, presented.clientSecret)
  return credential
}
