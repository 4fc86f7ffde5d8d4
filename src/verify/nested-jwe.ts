import { compactDecrypt } from 'jose'
import { CONTENT_ENCRYPTION_ALGORITHMS, KEY_MANAGEMENT_ALGORITHMS } from './algorithms.js'
import { VerifyError } from './errors.js'
import type { DecryptionKey } from './types.js'

const decoder = new TextDecoder()

/**
 * Opens a nested JWT (RFC 7519 §5.2) and returns the signed token inside, which the caller must
 * still verify: encryption says nothing about who wrote the token.
 *
 * @param jwe - the compact JWE
 * @param key - the server encryption key's private half, or undefined when none was configured
 * @internal
 */
export async function openNestedJwt(jwe: string, key: DecryptionKey | undefined): Promise<string> {
  if (key === undefined) throw new VerifyError('invalid_token', 'encrypted tokens are not accepted here', { detail: 'no decryptionKey configured' })
  const { plaintext, protectedHeader } = await compactDecrypt(jwe, key, {
    keyManagementAlgorithms: KEY_MANAGEMENT_ALGORITHMS,
    contentEncryptionAlgorithms: CONTENT_ENCRYPTION_ALGORITHMS,
  })
  // RFC 7519 §5.2: cty "JWT" marks a nested JWT; the RFC recommends, not requires, upper case.
  if (typeof protectedHeader.cty !== 'string' || protectedHeader.cty.toUpperCase() !== 'JWT') {
    throw new VerifyError('invalid_token', 'token is invalid', { detail: 'encrypted token without cty JWT' })
  }
  return decoder.decode(plaintext)
}
