import type { Kysely } from 'kysely'
import type { Store } from '../domain/ports.js'
import { createAccountRepository } from './repositories/accounts.js'
import { createClientRepository } from './repositories/clients.js'
import { createKeyPairRepository } from './repositories/key-pairs.js'
import { createServerKeyRepository } from './repositories/server-keys.js'
import { createUserRepository } from './repositories/users.js'
import type { Database } from './schema.js'

/** Binds every repository to one connection (or one open transaction). */
export function createStore(db: Kysely<Database>): Store {
  return {
    accounts: createAccountRepository(db),
    users: createUserRepository(db),
    clients: createClientRepository(db),
    keyPairs: createKeyPairRepository(db),
    serverKeys: createServerKeyRepository(db),
    transaction: (fn) => (db.isTransaction ? fn(createStore(db)) : db.transaction().execute((trx) => fn(createStore(trx)))),
  }
}
