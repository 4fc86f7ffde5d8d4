import type { KeyObject } from 'node:crypto'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { NotFound } from './errors.js'
import type { Clock, Store } from './ports.js'
import { openPrivateKey, serverKeyStates, type Sealer } from './server-keys.js'

/**
 * The private half of keymint's active encryption key: what tokens for the default audience
 * are encrypted to (`encrypted=`, clients set to encrypt). Whoever holds it can read every
 * such token, so each export is audited.
 */
export async function exportEncryptionKey(
  deps: { store: Store; clock: Clock; sealer: Sealer },
  input: { actor?: string } = {},
): Promise<{ kid: string; privateKey: KeyObject }> {
  const now = deps.clock.now()
  const keys = await deps.store.serverKeys.listAll()
  const states = serverKeyStates(keys, now)
  const record = keys.find((k) => k.use === 'enc' && states.get(k.kid) === 'active')
  if (!record) throw new NotFound('KEYMINT_SERVER_KEY_NOT_FOUND', 'there is no active encryption key yet; keymint serve creates it at its first start')
  const privateKey = openPrivateKey(record, deps.sealer)
  await deps.store.audit.insert([auditEvent({
    accountId: null, actor: input.actor ?? DEFAULT_ACTOR, action: 'encryption_key.exported', target: record.kid, details: { alg: record.alg }, createdAt: now,
  })])
  return { kid: record.kid, privateKey }
}
