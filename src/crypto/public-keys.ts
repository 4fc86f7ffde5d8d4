import { createPublicKey, type KeyObject } from 'node:crypto'

export class PublicKeyError extends Error {
  override readonly name = 'PublicKeyError'
}

/**
 * Reads a client's public key from PEM or JWK text and returns it as a public JWK.
 * Private key material is refused outright: it must never be handed to the server.
 */
export function parseClientPublicKey(text: string): Record<string, string> {
  const trimmed = text.trim()
  if (trimmed.length > 20_000) throw new PublicKeyError('public key is too large')
  let key: KeyObject
  try {
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as Record<string, unknown>
      if ('d' in jwk) throw new PublicKeyError('this JWK holds a private key; register the public key only')
      key = createPublicKey({ key: jwk as never, format: 'jwk' })
    } else {
      if (/PRIVATE KEY/.test(trimmed)) throw new PublicKeyError('this PEM holds a private key; register the public key only')
      key = createPublicKey(trimmed)
    }
  } catch (err) {
    if (err instanceof PublicKeyError) throw err
    throw new PublicKeyError('not a PEM or JWK public key', { cause: err })
  }
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
