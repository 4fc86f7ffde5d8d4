/**
 * Signature algorithms keymint signs with; the default pin.
 *
 * @internal
 */
export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const

// Asymmetric only: an HMAC "verified" with a published public key as its secret is the classic
// key-confusion forgery, and `none` is no signature at all (RFC 8725 §2.1, §3.1).
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'])

/**
 * Key management algorithms of keymint's encrypted tokens (to its own RSA key, or to a registered
 * API's RSA, EC or X25519 key); RSA1_5, SHA-1 RSA-OAEP and key wrapping never.
 *
 * @internal
 */
export const KEY_MANAGEMENT_ALGORITHMS = ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512', 'ECDH-ES']

/**
 * Content encryption of keymint's encrypted tokens.
 *
 * @internal
 */
export const CONTENT_ENCRYPTION_ALGORITHMS = ['A256GCM']

/**
 * The algorithms to pin, checked once at construction so a misconfiguration fails at start.
 *
 * @param requested - the caller's list, or undefined for the default
 * @internal
 */
export function pinAlgorithms(requested: readonly string[] | undefined): string[] {
  const algorithms = [...new Set(requested ?? DEFAULT_ALGORITHMS)]
  if (algorithms.length === 0) throw new TypeError('keymint/verify: algorithms must not be empty')
  const refused = algorithms.filter((a) => !ASYMMETRIC.has(a))
  if (refused.length > 0) {
    throw new TypeError(`keymint/verify: only asymmetric signature algorithms are allowed, not ${refused.join(', ')}`)
  }
  return algorithms
}
