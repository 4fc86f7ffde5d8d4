import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { deriveKey, type MasterKey } from './master-key.js'

// AES-256-GCM envelope for private keys at rest: `v1.<iv>.<ciphertext>.<tag>`, base64url parts.
// The associated data binds a sealed value to its record (a key's kid), so swapping rows fails.
const VERSION = 'v1'

export class UnsealError extends Error {
  override readonly name = 'UnsealError'
}

/**
 * Seals under the current master key; opens values sealed under it or under a previous one
 * (during a master key rotation). GCM's tag tells which key fits.
 */
export function createSealer(master: MasterKey, previous: readonly MasterKey[] = []): {
  seal(plaintext: string, associatedData: string): string
  unseal(sealed: string, associatedData: string): string
} {
  const key = deriveKey(master, 'private-key-sealing')
  const keys = [key, ...previous.map((m) => deriveKey(m, 'private-key-sealing'))]
  return {
    seal(plaintext, associatedData) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(associatedData))
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return [VERSION, iv, ct, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.')
    },
    unseal(sealed, associatedData) {
      const [version, iv, ct, tag] = sealed.split('.')
      if (version !== VERSION || !iv || !ct || !tag) throw new UnsealError('unrecognized sealed key format')
      for (const candidate of keys) {
        try {
          const decipher = createDecipheriv('aes-256-gcm', candidate, Buffer.from(iv, 'base64url'))
          decipher.setAAD(Buffer.from(associatedData))
          decipher.setAuthTag(Buffer.from(tag, 'base64url'))
          return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8')
        } catch {
          // Not this key; try the next.
        }
      }
      throw new UnsealError('cannot decrypt a stored private key: wrong master key? (set KEYMINT_PREVIOUS_MASTER_KEYS while rotating)')
    },
  }
}
