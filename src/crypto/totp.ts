import { createHmac, timingSafeEqual } from 'node:crypto'
import { base32Decode, base32Encode } from './base32.js'
import { randomSecretBytes } from './random.js'

// RFC 6238 TOTP over RFC 4226 HOTP with HMAC-SHA1: the parameters every authenticator app
// supports without being told (6 digits, 30-second steps, SHA-1).
export const TOTP_DIGITS = 6
export const TOTP_STEP_SECONDS = 30
/** RFC 4226 §4 R6 recommends 160 bits: the length of an HMAC-SHA1 key. */
const SECRET_BYTES = 20

/** A new random TOTP secret, base32 without padding (the form otpauth URIs carry). */
export function generateTotpSecret(): string {
  return base32Encode(randomSecretBytes(SECRET_BYTES), { padding: false })
}

/** The RFC 6238 time step `at` falls in: T = floor((unix time - T0) / X), T0 = 0. */
export function totpStep(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_STEP_SECONDS)
}

/** RFC 4226 §5.3: HMAC-SHA1 of the 8-byte counter, dynamic truncation, modulo 10^digits. */
export function hotp(key: Uint8Array, counter: number, digits: number = TOTP_DIGITS): string {
  const message = Buffer.alloc(8)
  message.writeBigUInt64BE(BigInt(counter))
  const mac = createHmac('sha1', key).update(message).digest()
  const offset = mac[mac.length - 1]! & 0x0f
  const binary = mac.readUInt32BE(offset) & 0x7fffffff
  return String(binary % 10 ** digits).padStart(digits, '0')
}

/** The code for the step `at` falls in. */
export function totpCode(secret: string, at: Date, digits: number = TOTP_DIGITS): string {
  return hotp(base32Decode(secret), totpStep(at), digits)
}

/**
 * Checks a code against the steps around `at` (RFC 6238 §5.2: a window for clock drift and the
 * time it takes to type). Returns the step the code belongs to, so the caller can refuse it the
 * second time (§5.2: "the verifier MUST NOT accept the second attempt of the same OTP"), or
 * undefined when it matches none. Every step of the window is compared, in constant time.
 */
export function verifyTotp(secret: string, code: string, at: Date, opts: { window?: number } = {}): number | undefined {
  const window = opts.window ?? 1
  const presented = Buffer.from(code.replace(/\s+/g, ''))
  const current = totpStep(at)
  const key = base32Decode(secret)
  let matched: number | undefined
  for (let step = current - window; step <= current + window; step++) {
    const expected = Buffer.from(hotp(key, step))
    const equal = presented.length === expected.length && timingSafeEqual(presented, expected)
    // The latest matching step wins: only it can be newer than the last one accepted.
    if (equal) matched = step
  }
  return matched
}

/**
 * The Key URI Format authenticator apps scan as a QR code: `otpauth://totp/Issuer:account?…`.
 * The issuer is both in the label and a parameter, as the format recommends; neither may hold
 * a colon, which separates them in the label.
 */
export function otpauthUri(input: { issuer: string; account: string; secret: string }): string {
  const issuer = input.issuer.replaceAll(':', ' ').trim()
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(input.account.replaceAll(':', ' '))}`
  const params = new URLSearchParams({
    secret: input.secret, issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_STEP_SECONDS),
  })
  return `otpauth://totp/${label}?${params.toString().replaceAll('+', '%20')}`
}
