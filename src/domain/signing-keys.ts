import { createCompactSigner, type CompactSigner, type SigningAlg } from '../crypto/jws.js'
import { generateSigningKey, importPrivateKey } from '../crypto/signing-keys.js'
import type { Clock, SigningKeyRecord, Store } from './ports.js'

export interface Sealer {
  seal(plaintext: string, associatedData: string): string
  unseal(sealed: string, associatedData: string): string
}

/** Creates the first signing key when none exists; returns the published set afterwards. */
export async function ensureSigningKey(
  deps: { store: Store; clock: Clock; sealer: Sealer },
  alg: SigningAlg,
): Promise<SigningKeyRecord[]> {
  return deps.store.transaction(async (tx) => {
    const published = await tx.signingKeys.listPublished()
    if (published.some((k) => k.retiredAt === null)) return published
    const key = await generateSigningKey(alg)
    const record: SigningKeyRecord = {
      kid: key.kid,
      alg: key.alg,
      publicJwk: key.publicJwk,
      privateKeySealed: deps.sealer.seal(key.privatePem, key.kid),
      createdAt: deps.clock.now(),
      retiredAt: null,
    }
    await tx.signingKeys.insert(record)
    return [record, ...published]
  })
}

/** The signer for access tokens: the newest key that is not retired. */
export function accessTokenSigner(keys: readonly SigningKeyRecord[], sealer: Sealer): CompactSigner {
  const active = keys.find((k) => k.retiredAt === null)
  if (!active) throw new Error('no active signing key')
  const privateKey = importPrivateKey(sealer.unseal(active.privateKeySealed, active.kid))
  // RFC 9068 §2.1: access tokens carry typ "at+jwt".
  return createCompactSigner({ kid: active.kid, alg: active.alg as SigningAlg, privateKey }, 'at+jwt')
}
