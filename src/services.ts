import { existsSync } from 'node:fs'
import { createClientSecretService } from './crypto/client-secrets.js'
import {
  loadOrCreateMasterKeyFile, MasterKeyError, parseMasterKey, generateMasterKey, type MasterKey,
} from './crypto/master-key.js'
import { createSealer } from './crypto/sealing.js'
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
  readonly sealer: ReturnType<typeof createSealer>
  /** Opens only what the current master key sealed: tells what a rotation still has to re-seal. */
  readonly currentOnlySealer: ReturnType<typeof createSealer>
  /** Set when this call created the master key file. */
  readonly createdMasterKeyFile: string | undefined
  close(): Promise<void>
}

export const systemClock: Clock = { now: () => new Date() }

type MasterKeySource = { key: MasterKey } | { file: string }

/** Decides where the master key comes from without touching the disk. */
function masterKeySource(config: Config): MasterKeySource {
  if (config.masterKey.value !== undefined) {
    return { key: parseMasterKey(config.masterKey.value, 'KEYMINT_MASTER_KEY') }
  }
  if (config.masterKey.file !== undefined) return { file: config.masterKey.file }
  if (parseDatabaseUrl(config.database.url).engine === 'sqlite') {
    // An in-memory database lives and dies with the process; so may its key.
    return { key: parseMasterKey(generateMasterKey(), 'generated key') }
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

/** Opens the database, brings its schema up to date and derives the server's secrets. */
export async function openServices(config: Config, opts: { poolSize?: number } = {}): Promise<Services> {
  const source = masterKeySource(config)
  const previous = config.masterKey.previous.map((k, i) => parseMasterKey(k, `KEYMINT_PREVIOUS_MASTER_KEYS entry ${i + 1}`))
  const database = await openDatabase(config.database.url, opts)
  let key: MasterKey
  let createdFile: string | undefined
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
  } catch (err) {
    await database.close()
    throw err
  }
  return {
    database,
    store: createStore(database.db, database.engine),
    clock: systemClock,
    secrets: createClientSecretService(key, previous),
    sealer: createSealer(key, previous),
    currentOnlySealer: createSealer(key),
    createdMasterKeyFile: createdFile,
    close: () => database.close(),
  }
}
