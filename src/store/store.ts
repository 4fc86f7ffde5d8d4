import { sql, type Kysely } from 'kysely'
import type { SqlEngine } from './database-url.js'
import type { Store } from '../domain/ports.js'
import { createAccountRepository } from './repositories/accounts.js'
import { createApiRepository } from './repositories/apis.js'
import { createAuditRepository } from './repositories/audit-events.js'
import { createClientAssertionRepository } from './repositories/client-assertions.js'
import { createClientRepository } from './repositories/clients.js'
import { createFederationPolicyRepository } from './repositories/federation-policies.js'
import { createDPoPProofRepository } from './repositories/dpop-proofs.js'
import { createClientUsageRepository } from './repositories/client-usage.js'
import { createKeyPairRepository } from './repositories/key-pairs.js'
import { createRevokedTokenRepository } from './repositories/revoked-tokens.js'
import { createSecondFactorRepository } from './repositories/second-factors.js'
import { createServerKeyRepository } from './repositories/server-keys.js'
import { createSessionRepository } from './repositories/sessions.js'
import { createUserRepository } from './repositories/users.js'
import { createWebhookRepository } from './repositories/webhooks.js'
import type { Database } from './schema.js'

/** Binds every repository to one connection (or one open transaction). */
export function createStore(db: Kysely<Database>, engine: SqlEngine): Store {
  return {
    accounts: createAccountRepository(db),
    users: createUserRepository(db),
    clients: createClientRepository(db),
    keyPairs: createKeyPairRepository(db),
    serverKeys: createServerKeyRepository(db, engine),
    revokedTokens: createRevokedTokenRepository(db, engine),
    audit: createAuditRepository(db),
    clientAssertions: createClientAssertionRepository(db),
    dpopProofs: createDPoPProofRepository(db),
    apis: createApiRepository(db),
    sessions: createSessionRepository(db),
    secondFactors: createSecondFactorRepository(db),
    webhooks: createWebhookRepository(db, engine),
    federationPolicies: createFederationPolicyRepository(db),
    clientUsage: createClientUsageRepository(db),
    transaction: (fn, opts) => {
      if (db.isTransaction) return fn(createStore(db, engine))
      return db.transaction().execute(async (trx) => {
        // SQLite serializes writers on its own; PostgreSQL needs the lock made explicit.
        if (opts?.lock && engine === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${opts.lock}))`.execute(trx)
        return fn(createStore(trx, engine))
      })
    },
  }
}
