import { createHash } from 'node:crypto'
import { randomSecretBytes } from './random.js'

// Recovery codes: `xxxx-xxxx-xxxx` in Crockford's base32 alphabet (no i, l, o or u), 5 bits a
// character, so 60 random bits a code. That is far beyond guessing at any rate a server allows,
// so a plain SHA-256 is enough to store them (as for session ids); a slow KDF is for passwords.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const LENGTH = 12
const GROUP = 4
export const RECOVERY_CODE_COUNT = 10

/** One new code, grouped for reading: `7k2m-q9xd-4hvt`. */
export function generateRecoveryCode(): string {
  // 256 is a multiple of 32: the low five bits of a random byte are uniform.
  const chars = [...randomSecretBytes(LENGTH)].map((b) => ALPHABET[b & 31]!)
  const groups: string[] = []
  for (let i = 0; i < LENGTH; i += GROUP) groups.push(chars.slice(i, i + GROUP).join(''))
  return groups.join('-')
}

/**
 * The code as typed, brought to its one canonical form: case, hyphens and spaces do not matter,
 * and the letters people misread are read as Crockford decodes them (o → 0, i and l → 1).
 * Undefined when it cannot be a recovery code at all.
 */
export function normalizeRecoveryCode(typed: string): string | undefined {
  const code = typed.toLowerCase().replace(/[\s-]+/g, '').replace(/o/g, '0').replace(/[il]/g, '1')
  if (code.length !== LENGTH || [...code].some((c) => !ALPHABET.includes(c))) return undefined
  return code
}

/** Only this is stored: SHA-256 of the canonical form, base64url. */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(normalizeRecoveryCode(code) ?? code).digest('base64url')
}
