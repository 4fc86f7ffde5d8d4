import { randomUUID } from 'node:crypto'
import { parseEncryptionPublicKey, type EncryptionPublicKey } from '../crypto/encryption-public-keys.js'
import { PublicKeyError } from '../crypto/public-keys.js'
import { getAccount } from './accounts.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { InvalidInput } from './errors.js'
import type { Clock, Store } from './ports.js'
import type { Api, ApiId } from './types.js'
import { requireName } from './validation.js'

/** RFC 8707 §2: a resource is an absolute URI without a fragment. */
export function isResourceIdentifier(value: string): boolean {
  // No whitespace or control characters: URL parsing would drop some, `aud` would keep them.
  if (value.length === 0 || value.length > 2048 || value.includes('#') || /[\s\p{Cc}]/u.test(value)) return false
  try {
    return new URL(value).protocol.length > 1
  } catch {
    return false
  }
}

/** Two identifiers a resource server could take for the same audience (case of scheme and host, a trailing slash). */
function sameAudience(a: string, b: string): boolean {
  const canonical = (value: string) => (URL.canParse(value) ? new URL(value).href.replace(/\/+$/, '') : value)
  return canonical(a) === canonical(b)
}

export interface ApiDeps {
  readonly store: Store
  readonly clock: Clock
  /** keymint's own default `aud` (the issuer, and KEYMINT_AUDIENCE when set): every account's tokens carry it. */
  readonly defaultAudiences: readonly string[]
}

export interface NewApiInput {
  readonly accountId: string
  readonly identifier: string
  readonly name?: string
  /** PEM or JWK text of the API's public key; tokens for the API are then encrypted to it. */
  readonly encryptionKey?: string
  /** RSA-OAEP-256/384/512 or ECDH-ES; default by key type (or the JWK's own `alg`). */
  readonly encryptionAlg?: string
  readonly actor?: string
}

async function requireEncryptionKey(text: string, alg: string | undefined): Promise<EncryptionPublicKey> {
  try {
    return await parseEncryptionPublicKey(text, alg)
  } catch (err) {
    if (err instanceof PublicKeyError) throw new InvalidInput('KEYMINT_INVALID_INPUT', `encryption key: ${err.message}`, { cause: err })
    throw err
  }
}

export async function createApi(deps: ApiDeps, input: NewApiInput): Promise<Api> {
  if (!isResourceIdentifier(input.identifier)) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'an API identifier must be an absolute URI without a fragment, e.g. https://api.example.com')
  }
  if (deps.defaultAudiences.some((aud) => sameAudience(aud, input.identifier))) {
    throw new InvalidInput('KEYMINT_API_IDENTIFIER_RESERVED',
      "this identifier is keymint's default audience, which every account's tokens carry; register the API under an identifier of its own")
  }
  const name = requireName(input.name ?? input.identifier, 'API name')
  if (input.encryptionAlg !== undefined && input.encryptionKey === undefined) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'an encryption algorithm needs an encryption key')
  }
  const encryption = input.encryptionKey === undefined ? null : await requireEncryptionKey(input.encryptionKey, input.encryptionAlg)
  return deps.store.transaction(async (tx) => {
    const account = await getAccount(tx, input.accountId)
    const api = await tx.apis.insert({ id: randomUUID() as ApiId, accountId: account.id, identifier: input.identifier, name, encryption, createdAt: deps.clock.now() })
    await tx.audit.insert([auditEvent({
      accountId: account.id, actor: input.actor ?? DEFAULT_ACTOR, action: 'api.created', target: api.id, createdAt: api.createdAt,
      details: { identifier: api.identifier, ...(encryption ? { encryption_kid: encryption.kid, encryption_alg: encryption.alg } : {}) },
    })])
    return api
  })
}

export async function listApis(deps: { store: Store }, input: { accountId: string }): Promise<Api[]> {
  const account = await getAccount(deps.store, input.accountId)
  return deps.store.apis.listByAccount(account.id)
}
