import { createHmac, timingSafeEqual } from 'node:crypto'
import { deriveKey, type MasterKey } from './master-key.js'
import { randomToken } from './random.js'

/**
 * Client secrets look like `kmsk_<43 base64url chars>`: 256 random bits behind a fixed
 * prefix that secret scanners can match on.
 */
export const CLIENT_SECRET_PREFIX = 'kmsk_'
const SECRET_PATTERN = /^kmsk_[A-Za-z0-9_-]{43}$/

export function isWellFormedClientSecret(value: string): boolean {
  return value.length === 48 && SECRET_PATTERN.test(value)
}

/**
 * Secrets are random 256-bit values, so a keyed hash (HMAC-SHA256) is enough: a slow KDF
 * protects guessable passwords, not these, and would cost milliseconds per token.
 */
export type SecretMatch = 'current' | 'previous' | null

/** Generates, hashes and checks client secrets; the domain's SecretService port is a part of it. */
export interface ClientSecretService {
  generate(): string
  hash(secret: string): Buffer
  /** Identifies the hashing key in use (never the key itself). */
  readonly keyId: string
  /** Which master key the stored hash was made under, if the secret matches at all. */
  match(secret: string, expectedHash: Buffer): SecretMatch
  /** Whether the secret matches under the current master key. */
  matches(secret: string, expectedHash: Buffer): boolean
  /** Ids of the hashing keys of the current and the previous master keys: the hashes this service can check. */
  readonly keyIds: readonly string[]
}

export function createClientSecretService(master: MasterKey, previous: readonly MasterKey[] = []): ClientSecretService {
  const hmacWith = (key: Buffer) => (secret: string): Buffer => createHmac('sha256', key).update(secret).digest()
  const hashKey = deriveKey(master, 'client-secret-hash')
  const hash = hmacWith(hashKey)
  const previousHashes = previous.map((m) => hmacWith(deriveKey(m, 'client-secret-hash')))
  const equal = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b)
  const keyIdOf = (key: Buffer) => createHmac('sha256', key).update('keymint key id').digest('base64url').slice(0, 16)
  return {
    generate: () => `${CLIENT_SECRET_PREFIX}${randomToken(32)}`,
    hash,
    keyId: keyIdOf(hashKey),
    keyIds: [hashKey, ...previous.map((m) => deriveKey(m, 'client-secret-hash'))].map(keyIdOf),
    match(secret, expectedHash) {
      // Every key is tried every time, so timing does not tell which one (if any) matched.
      const current = equal(hash(secret), expectedHash)
      const old = previousHashes.map((h) => equal(h(secret), expectedHash)).some(Boolean)
      return current ? 'current' : old ? 'previous' : null
    },
    matches: (secret, expectedHash) => equal(hash(secret), expectedHash),
  }
}
