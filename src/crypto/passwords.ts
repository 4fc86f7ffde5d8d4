import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { createRequire } from 'node:module'

// A slow, memory-hard KDF is right for passwords people choose (unlike for 256-bit client secrets).
// N = 2^cost, r = 8: at the default cost of 15, 32 MiB and some tens of milliseconds per hash.
// The parameters are stored with each hash, so a hash made at another cost still verifies.
export const DEFAULT_PASSWORD_COST = 15
const R = 8
const P = 1
const KEY_LENGTH = 32
const SALT_BYTES = 16
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/

export const MIN_PASSWORD_LENGTH = 12
export const MAX_PASSWORD_LENGTH = 1024

const commonPasswords = createRequire(import.meta.url)('fxa-common-password-list') as { test(password: string): boolean }

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r }
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** Why a new password is refused, or undefined when it is acceptable (NIST SP 800-63B §5.1.1.2). */
export function passwordProblem(password: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`
  if (password.length > MAX_PASSWORD_LENGTH) return `a password has at most ${MAX_PASSWORD_LENGTH} characters`
  if (commonPasswords.test(password) || commonPasswords.test(password.toLowerCase())) return 'this password is in a list of commonly used passwords; choose another'
  return undefined
}

/** Constant-time check of a password against a stored hash; a malformed hash never matches. */
async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored)
  if (!m || password.length > MAX_PASSWORD_LENGTH) return false
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return false
  const key = await derive(password, Buffer.from(m[4]!, 'base64url'), { N, r, p })
  return timingSafeEqual(key, Buffer.from(m[5]!, 'base64url'))
}

export interface PasswordHasher {
  /** `scrypt$N$r$p$salt$hash`, base64url: the parameters travel with the hash. */
  hash(password: string): Promise<string>
  /** Constant-time check against a stored hash, at the cost it was made with; a malformed hash never matches. */
  verify(password: string, stored: string): Promise<boolean>
  /** Work the same as a real check, for an unknown email: both answers take the same time. */
  verifyAgainstNothing(password: string): Promise<false>
  /** Whether a stored hash was made with weaker parameters than this cost's. */
  needsRehash(stored: string): boolean
}

/** Hashes and checks passwords at one cost (`N = 2^cost`), the operator's choice. */
export function createPasswordHasher(cost = DEFAULT_PASSWORD_COST): PasswordHasher {
  const params = { N: 2 ** cost, r: R, p: P }
  const prefix = `scrypt$${params.N}$${params.r}$${params.p}$`
  const dummyHash = `${prefix}${'A'.repeat(22)}$${'A'.repeat(43)}`
  return {
    async hash(password: string): Promise<string> {
      const salt = randomBytes(SALT_BYTES)
      const key = await derive(password, salt, params)
      return `${prefix}${salt.toString('base64url')}$${key.toString('base64url')}`
    },
    verify: verifyPassword,
    async verifyAgainstNothing(password: string): Promise<false> {
      await verifyPassword(password, dummyHash)
      return false
    },
    needsRehash(stored: string): boolean {
      const m = FORMAT.exec(stored)
      return !m || Number(m[1]) < params.N || Number(m[2]) < params.r
    },
  }
}

/** A one-time password for a first sign-in: 120 random bits in four readable groups. */
export function generateOneTimePassword(): string {
  const text = randomBytes(15).toString('base64url')
  return text.match(/.{5}/g)?.join('-') ?? text
}
