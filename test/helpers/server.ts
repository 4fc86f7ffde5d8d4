import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { loadConfig, type Config, type ConfigInput } from '../../src/config.js'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { createAccount } from '../../src/domain/accounts.js'
import { createApi } from '../../src/domain/apis.js'
import { createClient } from '../../src/domain/clients.js'
import { ensureServerKeys } from '../../src/domain/server-keys.js'
import { createUser } from '../../src/domain/users.js'
import type { Clock } from '../../src/domain/ports.js'
import type { Api, Plan, Permission } from '../../src/domain/types.js'
import { startServer, type RunningServer } from '../../src/server.js'
import { openServices, type Services } from '../../src/services.js'
import { cleanup } from './cleanup.js'
import { createTestDatabase, type Dialect } from './dialects.js'
import { pooledServerKeys } from './server-keys.js'
import { TEST_PASSWORD_COST } from './password-cost.js'

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'keymint-test-'))
  cleanup(t, () => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A clock tests can move; everything else in the server is real. */
export class TestClock implements Clock {
  #now = Date.now()
  /** Delays the server decided on (slowed failure answers), in the order it asked for them. */
  readonly waits: number[] = []
  now(): Date { return new Date(this.#now) }
  advance(seconds: number): void { this.#now += seconds * 1000 }
  /** Records the delay and returns at once: time moves only when the test says. */
  sleep(ms: number): Promise<void> {
    this.waits.push(ms)
    return Promise.resolve()
  }
}

export interface TestServer {
  readonly url: string
  readonly server: RunningServer
  readonly services: Services
  readonly config: Config
  readonly clock: TestClock
}

/** A real keymint on loopback, port 0, over a database of its own; closed after the test. */
export async function startTestServer(t: TestContext, dialect: Dialect, overrides: ConfigInput = {}): Promise<TestServer> {
  const dir = tempDir(t)
  const db = await createTestDatabase(t, dialect, dir, { migrated: true })
  const config = loadConfig(
    { db: db.url, port: 0, logLevel: 'silent', passwordHashCost: TEST_PASSWORD_COST, ...overrides },
    { KEYMINT_MASTER_KEY: generateMasterKey() },
  )
  const clock = new TestClock()
  const opened = await openServices(config)
  const services: Services = { ...opened, clock }
  // The first keys, as the server would make them at its start, but from the process's pool.
  await ensureServerKeys({ ...services, generator: pooledServerKeys }, config.tokens.signingAlg)
  const server = await startServer(config, { services, sleep: (ms) => clock.sleep(ms) })
  cleanup(t, () => server.close())
  return { url: server.url, server, services, config, clock }
}

/** Another instance over the same database and master key as `first`, as behind a load balancer. */
export async function startAnotherInstance(t: TestContext, first: TestServer, overrides: ConfigInput = {}): Promise<TestServer> {
  const masterKey = first.config.masterKey.value
  if (masterKey === undefined) throw new Error('the first instance has no master key value to share')
  const config = loadConfig(
    // One issuer for all instances, as behind a load balancer.
    { db: first.config.database.url, port: 0, logLevel: 'silent', passwordHashCost: TEST_PASSWORD_COST, issuer: first.config.server.issuer ?? first.url, ...overrides },
    { KEYMINT_MASTER_KEY: masterKey },
  )
  const clock = new TestClock()
  const services: Services = { ...await openServices(config), clock }
  const server = await startServer(config, { services, sleep: (ms) => clock.sleep(ms) })
  cleanup(t, () => server.close())
  return { url: server.url, server, services, config, clock }
}

export interface SeededClient {
  readonly accountId: string
  readonly clientRecordId: string
  readonly userId: string | undefined
  readonly clientId: string
  readonly clientSecret: string
}

export interface SeedOptions {
  readonly level?: 'user' | 'subscription'
  readonly plan?: Plan
  readonly permissions?: Permission[]
  readonly userScopes?: string[]
  readonly clientScopes?: string[]
  readonly lifetimeSeconds?: number
}

/** An account, (a user,) a client and its first key pair, made through the domain functions. */
export async function seedClient(services: Services, opts: SeedOptions = {}): Promise<SeededClient> {
  const level = opts.level ?? 'subscription'
  const account = await createAccount(services, { name: 'acme', plan: 'enterprise' })
  let userId: string | undefined
  if (level === 'user') {
    const user = await createUser(services, {
      accountId: account.id,
      email: `dev-${account.id.slice(0, 8)}@example.com`,
      role: 'admin',
      permissions: opts.permissions ?? ['ui', 'api'],
      // The first seed's sample token carries these; a token with no scope at all is refused.
      scopes: opts.userScopes ?? ['api.read', 'api.write'],
    })
    userId = user.id
  }
  const created = await createClient({ store: services.store, clock: services.clock, secrets: services.secrets }, {
    accountId: account.id,
    name: 'integration',
    level,
    ...(userId ? { userId } : {}),
    ...(opts.clientScopes ? { scopes: opts.clientScopes } : {}),
    ...(opts.lifetimeSeconds ? { lifetimeSeconds: opts.lifetimeSeconds } : {}),
  })
  if (opts.plan && opts.plan !== 'enterprise') {
    // Downgrade after the fact: the only way a non-enterprise account can hold a key pair.
    await services.database.db.updateTable('accounts').set({ plan: opts.plan }).where('id', '=', account.id).execute()
  }
  return {
    accountId: account.id,
    clientRecordId: created.client.id,
    userId,
    clientId: created.keyPair.id,
    clientSecret: created.keyPair.secret,
  }
}

/** Registers an API for an account, as the CLI and the REST API do (the server's issuer is reserved). */
export function registerApi(s: TestServer, accountId: string, identifier: string, extra: Omit<Parameters<typeof createApi>[1], 'accountId' | 'identifier'> = {}): Promise<Api> {
  return createApi({ ...s.services, defaultAudiences: [s.url, ...(s.config.tokens.audience === undefined ? [] : [s.config.tokens.audience])] }, { accountId, identifier, ...extra })
}
