import { createHash, timingSafeEqual } from 'node:crypto'
import type { SecretMatch } from '../../src/crypto/client-secrets.js'
import type { SecretService } from '../../src/domain/ports.js'

/**
 * Secrets that are the same on every run: `kmsk_` and 43 characters derived from a counter,
 * hashed with SHA-256 under a key id. Well-formed as real ones are, so authentication takes them.
 */
export class FakeSecretService implements SecretService {
  #issued = 0
  readonly keyId: string
  readonly #previous: readonly string[]

  /** `previousKeyIds`: hashes made under these still match, as 'previous' (a master key rotation). */
  constructor(keyId = 'fake-hash-key', previousKeyIds: readonly string[] = []) {
    this.keyId = keyId
    this.#previous = previousKeyIds
  }

  generate(): string {
    this.#issued++
    return `kmsk_${createHash('sha256').update(`fake secret ${this.#issued}`).digest('base64url').slice(0, 43)}`
  }

  hash(secret: string): Buffer {
    return FakeSecretService.hashUnder(this.keyId, secret)
  }

  static hashUnder(keyId: string, secret: string): Buffer {
    return createHash('sha256').update(`${keyId}\0${secret}`).digest()
  }

  /** As the real service's `match`: which key the stored hash was made under, if any. */
  readonly match = (secret: string, expectedHash: Buffer): SecretMatch => {
    const equal = (keyId: string) => {
      const actual = FakeSecretService.hashUnder(keyId, secret)
      return actual.length === expectedHash.length && timingSafeEqual(actual, expectedHash)
    }
    if (equal(this.keyId)) return 'current'
    return this.#previous.some(equal) ? 'previous' : null
  }
}
