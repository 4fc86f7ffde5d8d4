// RFC 4648 §6 base32: what authenticator apps expect a TOTP secret in.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export class Base32Error extends Error {
  override readonly name = 'Base32Error'
}

/** Encodes with `=` padding to a multiple of 8 characters, as RFC 4648 §6 spells it; `padding: false` drops it. */
export function base32Encode(data: Uint8Array, opts: { padding?: boolean } = {}): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of data) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
    value &= (1 << bits) - 1
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  if (opts.padding ?? true) out += '='.repeat((8 - (out.length % 8)) % 8)
  return out
}

/** Decodes either case, with or without padding; spaces are ignored (secrets are often typed in groups). */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/\s+/g, '').replace(/=+$/, '').toUpperCase()
  const bytes: number[] = []
  let bits = 0
  let value = 0
  for (const char of clean) {
    const index = ALPHABET.indexOf(char)
    if (index < 0) throw new Base32Error('not base32')
    value = (value << 5) | index
    bits += 5
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
    value &= (1 << bits) - 1
  }
  // Leftover bits must be zero padding of the last character (RFC 4648 §3.5: canonical encoding).
  if (bits >= 5 || value !== 0) throw new Base32Error('not canonical base32')
  return Buffer.from(bytes)
}
