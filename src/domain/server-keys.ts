import { createPublicKey, type KeyObject } from 'node:crypto'
import type { SigningAlg } from '../crypto/jws.js'
import {
  generateEncryptionKey, generateSigningKey, importPrivateKey, type GeneratedEncryptionKey, type GeneratedSigningKey,
} from '../crypto/key-generation.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { InvalidState, NotFound } from './errors.js'
import type { Clock, ServerKeyRecord, Store } from './ports.js'
import { MAX_LIFETIME_SECONDS } from './validation.js'

export interface Sealer {
  seal(plaintext: string, associatedData: string): string
  unseal(sealed: string, associatedData: string): string
}

export type ServerKeyState = 'active' | 'next' | 'previous' | 'retired' | 'unpublished'

/**
 * Where a key stands at `now`. Signing keys: `next` is published but not signing yet,
 * `active` signs, `previous` no longer signs but verifies, `retired` stays published until
 * every token it can have signed has expired, then it is `unpublished`.
 */
/** Keys that replace one another: the encryption keys, and the signing keys of one algorithm. */
export const keyGroup = (k: Pick<ServerKeyRecord, 'use' | 'alg'>): string => (k.use === 'sig' ? `sig:${k.alg}` : 'enc')

export function serverKeyStates(keys: readonly ServerKeyRecord[], now: Date): Map<string, ServerKeyState> {
  const states = new Map<string, ServerKeyState>()
  const t = now.getTime()
  for (const group of new Set(keys.map(keyGroup))) {
    let activeSeen = false
    // Newest activation first: the first live, activated key of each group is the one in use.
    const ofGroup = keys.filter((k) => keyGroup(k) === group).sort((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime())
    for (const key of ofGroup) {
      if (key.retiredAt && key.retiredAt.getTime() <= t) {
        states.set(key.kid, key.retiredAt.getTime() + MAX_LIFETIME_SECONDS * 1000 > t ? 'retired' : 'unpublished')
      } else if (key.activatesAt.getTime() > t) {
        states.set(key.kid, 'next')
      } else {
        states.set(key.kid, activeSeen ? 'previous' : 'active')
        activeSeen = true
      }
    }
  }
  return states
}

/** Where the first keys come from; tests hand in keys made ahead of time (RSA generation is slow). */
export interface ServerKeyGenerator {
  signing(alg: SigningAlg): Promise<GeneratedSigningKey>
  encryption(): Promise<GeneratedEncryptionKey>
}

const freshServerKeys: ServerKeyGenerator = { signing: generateSigningKey, encryption: generateEncryptionKey }

function sigRecord(key: GeneratedSigningKey, sealer: Sealer, now: Date, activatesAt: Date): ServerKeyRecord {
  return {
    kid: key.kid, use: 'sig', alg: key.alg, publicJwk: key.publicJwk,
    privateKeySealed: sealer.seal(key.privatePem, key.kid), createdAt: now, activatesAt, retiredAt: null,
  }
}

/**
 * Creates the first signing key and the first encryption key when none is live; returns every
 * key, newest first. Private parts are sealed before they are stored. The very first keys
 * sign at once: no token exists yet that a verifier could be missing a key for.
 */
export async function ensureServerKeys(
  deps: { store: Store; clock: Clock; sealer: Sealer; generator?: ServerKeyGenerator },
  signingAlg: SigningAlg,
): Promise<ServerKeyRecord[]> {
  const generator = deps.generator ?? freshServerKeys
  return deps.store.transaction(async (tx) => {
    const existing = await tx.serverKeys.listAll()
    const now = deps.clock.now()
    const states = serverKeyStates(existing, now)
    const live = (use: 'sig' | 'enc') => existing.some((k) => keyGroup(k) === keyGroup({ use, alg: signingAlg }) && states.get(k.kid) === 'active')
    const created: ServerKeyRecord[] = []
    if (!live('sig')) created.push(sigRecord(await generator.signing(signingAlg), deps.sealer, now, now))
    if (!live('enc')) {
      const key = await generator.encryption()
      created.push({
        kid: key.kid, use: 'enc', alg: 'RSA-OAEP-256', publicJwk: key.publicJwk,
        privateKeySealed: deps.sealer.seal(key.privatePem, key.kid), createdAt: now, activatesAt: now, retiredAt: null,
      })
    }
    for (const record of created) await tx.serverKeys.insert(record)
    return [...created, ...existing]
  }, { lock: 'keymint:server-keys' })
}

/** Makes sure some key of `alg` can sign: the first key of an algorithm signs at once. */
export async function ensureSigningKeyFor(deps: { store: Store; clock: Clock; sealer: Sealer }, alg: SigningAlg): Promise<void> {
  const keys = await deps.store.serverKeys.listAll()
  const states = serverKeyStates(keys, deps.clock.now())
  if (keys.some((k) => keyGroup(k) === keyGroup({ use: 'sig', alg }) && states.get(k.kid) === 'active')) return
  await rotateSigningKey(deps, { alg, publishAheadSeconds: 0 })
}

/**
 * Adds a signing key that is published now and signs from `now + publishAheadSeconds` on,
 * so verifiers caching the JWKS learn it before they see a token it signed.
 */
export async function rotateSigningKey(
  deps: { store: Store; clock: Clock; sealer: Sealer },
  input: { alg: SigningAlg; publishAheadSeconds: number; actor?: string },
): Promise<ServerKeyRecord> {
  const key = await generateSigningKey(input.alg)
  return deps.store.transaction(async (tx) => {
    const now = deps.clock.now()
    const existing = await tx.serverKeys.listAll()
    const states = serverKeyStates(existing, now)
    // With no key signing yet there is no verifier to warn ahead: the key signs at once.
    const signing = existing.some((k) => keyGroup(k) === keyGroup({ use: 'sig', alg: input.alg }) && states.get(k.kid) === 'active')
    const record = sigRecord(key, deps.sealer, now, signing ? new Date(now.getTime() + input.publishAheadSeconds * 1000) : now)
    await tx.serverKeys.insert(record)
    await tx.audit.insert([auditEvent({
      accountId: null, actor: input.actor ?? DEFAULT_ACTOR, action: 'signing_key.rotated', target: record.kid,
      details: { alg: record.alg, activates_at: record.activatesAt.toISOString() }, createdAt: now,
    })])
    return record
  }, { lock: 'keymint:server-keys' })
}

/** Stops a key from being used; refuses to retire the only key that can sign right now. */
export async function retireServerKey(deps: { store: Store; clock: Clock }, input: { kid: string; actor?: string }): Promise<ServerKeyRecord> {
  return deps.store.transaction(async (tx) => {
    const keys = await tx.serverKeys.listAll()
    const key = keys.find((k) => k.kid === input.kid)
    if (!key) throw new NotFound('KEYMINT_SERVER_KEY_NOT_FOUND', `server key ${input.kid.slice(0, 64)} not found`)
    const now = deps.clock.now()
    const states = serverKeyStates(keys, now)
    const state = states.get(key.kid)
    if (state === 'retired' || state === 'unpublished') return key
    const sameGroup = (kid: string) => keys.some((k) => k.kid === kid && keyGroup(k) === keyGroup(key))
    if (state === 'active' && ![...states].some(([kid, s]) => s === 'previous' && sameGroup(kid))) {
      throw new InvalidState('KEYMINT_SERVER_KEY_IN_USE', `key ${key.kid} is the only one in use; rotate first and retire it once the new key is active`)
    }
    await tx.serverKeys.retire(key.kid, now)
    await tx.audit.insert([auditEvent({
      accountId: null, actor: input.actor ?? DEFAULT_ACTOR, action: key.use === 'enc' ? 'encryption_key.retired' : 'signing_key.retired', target: key.kid, details: { use: key.use, alg: key.alg }, createdAt: now,
    })])
    return { ...key, retiredAt: now }
  }, { lock: 'keymint:server-keys' })
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

export function openPrivateKey(record: ServerKeyRecord, sealer: Sealer): KeyObject {
  return importPrivateKey(sealer.unseal(record.privateKeySealed, record.kid))
}

export function publicKeyOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey)
}
