import type { Clock, SecretService, Store } from './ports.js'
import { sealedFor } from './second-factor.js'
import type { Sealer } from './server-keys.js'
import { sealedForEndpoint } from './webhooks.js'

export interface MasterKeyStatus {
  /** Server keys whose private part is sealed under a previous master key. */
  readonly serverKeysToReseal: number
  /** Live key pairs whose secret hash was made under a previous master key; they re-hash at next use. */
  readonly keyPairsToRehash: number
  /** Users' TOTP secrets sealed under a previous master key. */
  readonly secondFactorSecretsToReseal: number
  /** Webhook endpoints' signing secrets sealed under a previous master key. */
  readonly webhookSecretsToReseal: number
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

/** Re-seals every user's TOTP secret under the current master key; returns how many. */
export async function resealSecondFactorSecrets(deps: { store: Store; sealer: Sealer }): Promise<number> {
  return deps.store.transaction(async (tx) => {
    const secrets = await tx.secondFactors.listSealedSecrets()
    for (const { userId, secretSealed } of secrets) {
      const context = sealedFor({ id: userId })
      await tx.secondFactors.resealSecret(userId, deps.sealer.seal(deps.sealer.unseal(secretSealed, context), context))
    }
    return secrets.length
  })
}

/** Re-seals every webhook endpoint's signing secret under the current master key; returns how many. */
export async function resealWebhookSecrets(deps: { store: Store; sealer: Sealer }): Promise<number> {
  return deps.store.transaction(async (tx) => {
    const secrets = await tx.webhooks.listSealedSecrets()
    for (const { id, secretSealed } of secrets) {
      const context = sealedForEndpoint(id)
      await tx.webhooks.resealSecret(id, deps.sealer.seal(deps.sealer.unseal(secretSealed, context), context))
    }
    return secrets.length
  })
}

const opensWith = (sealer: Sealer, sealed: string, context: string): boolean => {
  try {
    sealer.unseal(sealed, context)
    return true
  } catch {
    return false
  }
}

export async function masterKeyStatus(
  deps: { store: Store; sealer: Sealer; currentOnly: Sealer; secrets: SecretService; clock: Clock },
): Promise<MasterKeyStatus> {
  const keys = await deps.store.serverKeys.listAll()
  const totp = await deps.store.secondFactors.listSealedSecrets()
  const webhooks = await deps.store.webhooks.listSealedSecrets()
  return {
    serverKeysToReseal: keys.filter((k) => !opensWith(deps.currentOnly, k.privateKeySealed, k.kid)).length,
    keyPairsToRehash: await deps.store.keyPairs.countLiveHashedOtherwise(deps.secrets.keyId, deps.clock.now()),
    secondFactorSecretsToReseal: totp.filter((s) => !opensWith(deps.currentOnly, s.secretSealed, sealedFor({ id: s.userId }))).length,
    webhookSecretsToReseal: webhooks.filter((w) => !opensWith(deps.currentOnly, w.secretSealed, sealedForEndpoint(w.id))).length,
  }
}
