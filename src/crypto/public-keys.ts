import { createPublicKey, type KeyObject } from 'node:crypto'

export class PublicKeyError extends Error {
  override readonly name = 'PublicKeyError'
}

// JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth']

/**
 * Reads a public key from PEM or JWK text. Private and symmetric key material is refused
 * outright: it must never be handed to the server. The JWK, when given, is returned too.
 */
export function readPublicKey(text: string): { key: KeyObject; jwk: Readonly<Record<string, unknown>> | undefined } {
  const trimmed = text.trim()
  if (trimmed.length > 20_000) throw new PublicKeyError('public key is too large')
  try {
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as unknown
      if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new PublicKeyError('not a PEM or JWK public key')
      const members = jwk as Record<string, unknown>
      if (members.kty === 'oct' || 'k' in members) throw new PublicKeyError('this JWK is a symmetric key; register a public key')
      if (PRIVATE_MEMBERS.some((m) => m in members)) throw new PublicKeyError('this JWK holds a private key; register the public key only')
      return { key: createPublicKey({ key: members as never, format: 'jwk' }), jwk: members }
    }
    if (/PRIVATE KEY/.test(trimmed)) throw new PublicKeyError('this PEM holds a private key; register the public key only')
    return { key: createPublicKey(trimmed), jwk: undefined }
  } catch (err) {
    if (err instanceof PublicKeyError) throw err
    throw new PublicKeyError('not a PEM or JWK public key', { cause: err })
  }
}

/** Reads a client's public key (private_key_jwt) from PEM or JWK text and returns it as a public JWK. */
export function parseClientPublicKey(text: string): Record<string, string> {
  const { key } = readPublicKey(text)
  const type = key.asymmetricKeyType
  if (type === 'rsa' || type === 'rsa-pss') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw new PublicKeyError('RSA keys must be at least 2048 bits')
  } else if (type === 'ec') {
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new PublicKeyError('EC keys must be on P-256')
  } else if (type !== 'ed25519') {
    throw new PublicKeyError('supported keys: RSA (2048+ bits), EC P-256, Ed25519')
  }
  return key.export({ format: 'jwk' }) as Record<string, string>
}
