import type { Clock, SecretService, Store } from './ports.js'
import type { Sealer } from './server-keys.js'

export interface MasterKeyStatus {
  /** Server keys whose private part is sealed under a previous master key. */
  readonly serverKeysToReseal: number
  /** Live key pairs whose secret hash was made under a previous master key; they re-hash at next use. */
  readonly keyPairsToRehash: number
}

/**
 * Re-seals every server key under the current master key. Secret hashes cannot be redone
 * without the secrets; each live key pair re-hashes at its next successful authentication.
 */
export async function resealServerKeys(deps: { store: Store; sealer: Sealer }): Promise<number> {
  return deps.store.transaction(async (tx) => {
    const keys = await tx.serverKeys.listAll()
    for (const key of keys) {
      await tx.serverKeys.reseal(key.kid, deps.sealer.seal(deps.sealer.unseal(key.privateKeySealed, key.kid), key.kid))
    }
    return keys.length
  }, { lock: 'keymint:server-keys' })
}

export async function masterKeyStatus(
  deps: { store: Store; sealer: Sealer; currentOnly: Sealer; secrets: SecretService; clock: Clock },
): Promise<MasterKeyStatus> {
  const keys = await deps.store.serverKeys.listAll()
  let serverKeysToReseal = 0
  for (const key of keys) {
    try {
      deps.currentOnly.unseal(key.privateKeySealed, key.kid)
    } catch {
      serverKeysToReseal++
    }
  }
  return { serverKeysToReseal, keyPairsToRehash: await deps.store.keyPairs.countLiveHashedOtherwise(deps.secrets.keyId, deps.clock.now()) }
}
