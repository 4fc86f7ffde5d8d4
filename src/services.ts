import { existsSync } from 'node:fs'
import { createClientSecretService } from './crypto/client-secrets.js'
import {
  loadOrCreateMasterKeyFile, MasterKeyError, parseMasterKey, generateMasterKey, type MasterKey,
} from './crypto/master-key.js'
import { createDPoPNonces, type DPoPNonces } from './crypto/dpop-nonces.js'
import { createPasswordHasher, type PasswordHasher } from './crypto/passwords.js'
import { createSealer, UnsealError } from './crypto/sealing.js'
import type { Config } from './config.js'
import type { Clock, Store } from './domain/ports.js'
import { openDatabase, type OpenDatabase } from './store/database.js'
import { parseDatabaseUrl } from './store/database-url.js'
import { migrateToLatest } from './store/migrate.js'
import { createStore } from './store/store.js'

export interface Services {
  readonly database: OpenDatabase
  readonly store: Store
  readonly clock: Clock
  readonly secrets: ReturnType<typeof createClientSecretService>
  readonly passwords: PasswordHasher
  readonly sealer: ReturnType<typeof createSealer>
  /** Opens only what the current master key sealed: tells what a rotation still has to re-seal. */
  readonly currentOnlySealer: ReturnType<typeof createSealer>
  /** RFC 9449 §8 nonces every instance sharing the master key accepts. */
  readonly dpopNonces: DPoPNonces
  /** Set when this call created the master key file. */
  readonly createdMasterKeyFile: string | undefined
  close(): Promise<void>
}

export const systemClock: Clock = { now: () => new Date() }

export type MasterKeySource = { key: MasterKey; name: string } | { file: string }

/** Decides where the master key comes from without touching the disk. */
export function masterKeySource(config: Config): MasterKeySource {
  if (config.masterKey.value !== undefined) {
    return { key: parseMasterKey(config.masterKey.value, 'KEYMINT_MASTER_KEY'), name: 'KEYMINT_MASTER_KEY' }
  }
  if (config.masterKey.file !== undefined) return { file: config.masterKey.file }
  if (parseDatabaseUrl(config.database.url).engine === 'sqlite') {
    // An in-memory database lives and dies with the process; so may its key.
    return { key: parseMasterKey(generateMasterKey(), 'generated key'), name: 'generated key' }
  }
  throw new MasterKeyError(
    'PostgreSQL needs a master key shared by every instance: set KEYMINT_MASTER_KEY (32 random bytes, base64url) or KEYMINT_MASTER_KEY_FILE',
  )
}

async function holdsKeyMaterial(database: OpenDatabase): Promise<boolean> {
  const keys = await database.db.selectFrom('server_keys').select('kid').limit(1).execute()
  const pairs = await database.db.selectFrom('key_pairs').select('id').limit(1).execute()
  return keys.length + pairs.length > 0
}

/**
 * Refuses a master key that cannot open what the database holds: a command run with the wrong
 * key would otherwise print secrets no server can check and seal keys no server can open.
 * Every stored server key must open (current or previous master key); a database without
 * server keys yet must have a secret hash made under one of them, if it has any.
 */
export async function assertMasterKeyOpens(
  database: OpenDatabase,
  keys: { sealer: ReturnType<typeof createSealer>; hashKeyIds: readonly string[]; source: string },
): Promise<void> {
  const refuse = (why: string) => new MasterKeyError(
    `the master key (${keys.source}) does not fit this database: ${why}; wrong master key? While rotating, give the old one in KEYMINT_PREVIOUS_MASTER_KEYS`,
  )
  const sealed = await database.db.selectFrom('server_keys').select(['kid', 'private_key_sealed']).execute()
  if (sealed.length > 0) {
    const closed = sealed.filter((k) => {
      try {
        keys.sealer.unseal(k.private_key_sealed, k.kid)
        return false
      } catch (err) {
        if (err instanceof UnsealError) return true
        throw err
      }
    })
    if (closed.length > 0) throw refuse(`${closed.length} of its ${sealed.length} server keys do not open with it`)
    return
  }
  const hashed = await database.db.selectFrom('key_pairs').select('hash_key_id').distinct().where('hash_key_id', 'is not', null).execute()
  if (hashed.length > 0 && !hashed.some((r) => r.hash_key_id !== null && keys.hashKeyIds.includes(r.hash_key_id))) {
    throw refuse('none of its client secret hashes was made with it')
  }
}

/**
 * Opens the database, brings its schema up to date and derives the server's secrets; refuses
 * a master key that does not open the keys already stored.
 */
export async function openServices(config: Config, opts: { poolSize?: number } = {}): Promise<Services> {
  const source = masterKeySource(config)
  const previous = config.masterKey.previous.map((k, i) => parseMasterKey(k, `KEYMINT_PREVIOUS_MASTER_KEYS entry ${i + 1}`))
  const database = await openDatabase(config.database.url, opts)
  let key: MasterKey
  let createdFile: string | undefined
  let secrets: ReturnType<typeof createClientSecretService>
  let sealer: ReturnType<typeof createSealer>
  try {
    await migrateToLatest(database)
    if ('key' in source) {
      key = source.key
    } else {
      if (!existsSync(source.file) && await holdsKeyMaterial(database)) {
        // A new key would silently orphan every stored secret hash and private key.
        throw new MasterKeyError(`master key file ${source.file} is missing, but the database holds keys made with a master key; restore the file or set KEYMINT_MASTER_KEY`)
      }
      const loaded = loadOrCreateMasterKeyFile(source.file)
      key = loaded.key
      createdFile = loaded.created ? source.file : undefined
    }
    secrets = createClientSecretService(key, previous)
    sealer = createSealer(key, previous)
    await assertMasterKeyOpens(database, { sealer, hashKeyIds: secrets.keyIds, source: 'key' in source ? source.name : source.file })
  } catch (err) {
    await database.close()
    throw err
  }
  return {
    database,
    store: createStore(database.db, database.engine),
    clock: systemClock,
    secrets,
    passwords: createPasswordHasher(config.passwordHashCost),
    sealer,
    currentOnlySealer: createSealer(key),
    dpopNonces: createDPoPNonces(key, previous),
    createdMasterKeyFile: createdFile,
    close: () => database.close(),
  }
}
