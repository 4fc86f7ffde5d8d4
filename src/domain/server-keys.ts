import { createPublicKey, type KeyObject } from 'node:crypto'
import { createCompactSigner, type CompactSigner, type SigningAlg } from '../crypto/jws.js'
import { generateEncryptionKey, generateSigningKey, importPrivateKey } from '../crypto/key-generation.js'
import type { Clock, ServerKeyRecord, Store } from './ports.js'

export interface Sealer {
  seal(plaintext: string, associatedData: string): string
  unseal(sealed: string, associatedData: string): string
}

const isActive = (use: ServerKeyRecord['use']) => (k: ServerKeyRecord) => k.use === use && k.retiredAt === null

/**
 * Creates the first signing key and the first encryption key when they do not exist yet;
 * returns every published key, newest first. Private parts are sealed before they are stored.
 */
export async function ensureServerKeys(
  deps: { store: Store; clock: Clock; sealer: Sealer },
  signingAlg: SigningAlg,
): Promise<ServerKeyRecord[]> {
  return deps.store.transaction(async (tx) => {
    const published = await tx.serverKeys.listPublished()
    const created: ServerKeyRecord[] = []
    if (!published.some(isActive('sig'))) {
      const key = await generateSigningKey(signingAlg)
      created.push({
        kid: key.kid, use: 'sig', alg: key.alg, publicJwk: key.publicJwk,
        privateKeySealed: deps.sealer.seal(key.privatePem, key.kid), createdAt: deps.clock.now(), retiredAt: null,
      })
    }
    if (!published.some(isActive('enc'))) {
      const key = await generateEncryptionKey()
      created.push({
        kid: key.kid, use: 'enc', alg: 'RSA-OAEP-256', publicJwk: key.publicJwk,
        privateKeySealed: deps.sealer.seal(key.privatePem, key.kid), createdAt: deps.clock.now(), retiredAt: null,
      })
    }
    for (const record of created) await tx.serverKeys.insert(record)
    return [...created, ...published]
  }, { lock: 'keymint:server-keys' })
}

function activeKey(keys: readonly ServerKeyRecord[], use: ServerKeyRecord['use']): ServerKeyRecord {
  const key = keys.find(isActive(use))
  if (!key) throw new Error(`no active ${use === 'sig' ? 'signing' : 'encryption'} key`)
  return key
}

/** The signer for access tokens: the newest signing key that is not retired. */
export function accessTokenSigner(keys: readonly ServerKeyRecord[], sealer: Sealer): CompactSigner {
  const key = activeKey(keys, 'sig')
  const privateKey = importPrivateKey(sealer.unseal(key.privateKeySealed, key.kid))
  // RFC 9068 §2.1: access tokens carry typ "at+jwt".
  return createCompactSigner({ kid: key.kid, alg: key.alg as SigningAlg, privateKey }, 'at+jwt')
}

/** The key encrypted tokens are encrypted to; only its public half is needed to encrypt. */
export function tokenEncryptionKey(keys: readonly ServerKeyRecord[], sealer: Sealer): { kid: string; publicKey: KeyObject; privateKey: KeyObject } {
  const key = activeKey(keys, 'enc')
  const privateKey = importPrivateKey(sealer.unseal(key.privateKeySealed, key.kid))
  return { kid: key.kid, publicKey: createPublicKey(privateKey), privateKey }
}

// Only public members ever leave the server, whatever a stored JWK holds.
const PUBLIC_MEMBERS = ['kty', 'n', 'e', 'crv', 'x', 'y'] as const

/** A key as the JWKS publishes it. */
export function publicJwk(record: ServerKeyRecord): Record<string, string> {
  const jwk: Record<string, string> = {}
  for (const member of PUBLIC_MEMBERS) {
    const value = record.publicJwk[member]
    if (typeof value === 'string') jwk[member] = value
  }
  // An encryption key serves several RSA-OAEP variants, so it names no single `alg`.
  return record.use === 'sig' ? { ...jwk, kid: record.kid, alg: record.alg, use: 'sig' } : { ...jwk, kid: record.kid, use: 'enc' }
}

/** Private encryption keys by kid, to open encrypted tokens this server issued. */
export function decryptionKeys(keys: readonly ServerKeyRecord[], sealer: Sealer): Map<string, KeyObject> {
  return new Map(keys.filter((k) => k.use === 'enc').map((k) => [k.kid, importPrivateKey(sealer.unseal(k.privateKeySealed, k.kid))]))
}
