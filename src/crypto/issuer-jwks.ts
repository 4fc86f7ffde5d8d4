import { createPublicKey } from 'node:crypto'

export class IssuerJwksError extends Error {
  override readonly name = 'IssuerJwksError'
}

/** Most keys one issuer's set may hold; real issuers publish a handful. */
export const MAX_ISSUER_KEYS = 50

// JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const ASYMMETRIC = new Set(['RSA', 'EC', 'OKP'])

/**
 * Reads an issuer's JSON Web Key Set (RFC 7517 §5): its public signing keys, each one Node can
 * load. `strict` (a set given by an admin) refuses any key that is not one; otherwise (a set
 * fetched from an issuer) such keys are left out, as a verifier ignores keys it cannot use.
 */
export function readIssuerJwks(value: unknown, opts: { strict: boolean }): { keys: Readonly<Record<string, unknown>>[] } {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new IssuerJwksError('a JWKS is a JSON object with a "keys" array')
  }
  const listed = (value as { keys: unknown[] }).keys
  if (listed.length > MAX_ISSUER_KEYS) throw new IssuerJwksError(`a JWKS may hold at most ${MAX_ISSUER_KEYS} keys`)
  const keys: Readonly<Record<string, unknown>>[] = []
  for (const [i, candidate] of listed.entries()) {
    const problem = keyProblem(candidate)
    if (problem === undefined) keys.push(candidate as Record<string, unknown>)
    else if (opts.strict) throw new IssuerJwksError(`key ${i + 1} of the JWKS ${problem}`)
  }
  if (keys.length === 0) throw new IssuerJwksError('the JWKS holds no usable public signing key')
  return { keys }
}

function keyProblem(candidate: unknown): string | undefined {
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) return 'is not a JSON object'
  const jwk = candidate as Record<string, unknown>
  if (typeof jwk.kty !== 'string' || !ASYMMETRIC.has(jwk.kty)) return 'is not an RSA, EC or OKP public key'
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) return 'holds private key material; give public keys only'
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'is not for signatures ("use" is not "sig")'
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length > 256)) return 'has a malformed "kid"'
  try {
    const key = createPublicKey({ key: jwk as never, format: 'jwk' })
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return 'is an RSA key shorter than 2048 bits'
  } catch {
    return 'is not a valid public key'
  }
  return undefined
}
