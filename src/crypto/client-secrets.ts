import { createHmac, timingSafeEqual } from 'node:crypto'
import type { SecretService } from '../domain/ports.js'
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
export function createClientSecretService(master: MasterKey): SecretService & {
  matches(secret: string, expectedHash: Buffer): boolean
} {
  const hashKey = deriveKey(master, 'client-secret-hash')
  const hash = (secret: string): Buffer => createHmac('sha256', hashKey).update(secret).digest()
  return {
    generate: () => `${CLIENT_SECRET_PREFIX}${randomToken(32)}`,
    hash,
    matches(secret, expectedHash) {
      const actual = hash(secret)
      return actual.length === expectedHash.length && timingSafeEqual(actual, expectedHash)
    },
  }
}
