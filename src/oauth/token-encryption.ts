import type { TokenEncryptionAlg } from '../domain/types.js'
import { InvalidRequest } from './errors.js'

// Header dialect `encrypted` values (first seed: "For example, RSA512") and what they select.
const ENCRYPTED_VALUES: Readonly<Record<string, TokenEncryptionAlg | null>> = {
  true: 'RSA-OAEP-256',
  false: null,
  RSA512: 'RSA-OAEP-512',
  'RSA-OAEP-256': 'RSA-OAEP-256',
  'RSA-OAEP-384': 'RSA-OAEP-384',
  'RSA-OAEP-512': 'RSA-OAEP-512',
}

export const SUPPORTED_ENCRYPTED_VALUES = Object.keys(ENCRYPTED_VALUES)

/** Reads the optional `encrypted` form field; an unknown value is refused, naming the supported ones. */
export function parseEncryptedParam(value: string | undefined): TokenEncryptionAlg | null {
  if (value === undefined) return null
  const alg = Object.hasOwn(ENCRYPTED_VALUES, value) ? ENCRYPTED_VALUES[value] : undefined
  if (alg === undefined) {
    throw new InvalidRequest(`unsupported encrypted value; supported: ${SUPPORTED_ENCRYPTED_VALUES.join(', ')}`)
  }
  return alg
}
