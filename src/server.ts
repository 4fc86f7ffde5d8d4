import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { bootstrapIfEmpty } from './domain/bootstrap.js'
import { issueOneTimePassword } from './domain/passwords.js'
import { KeyPairUsageRecorder } from './runtime/key-pair-usage.js'
import type { Account, KeyPairId, User } from './domain/types.js'
import type { Clock } from './domain/ports.js'
import { encryptNestedJwt, encryptNestedJwtTo } from './crypto/jwe.js'
import { KeyRing } from './runtime/key-ring.js'
import { ensureServerKeys } from './domain/server-keys.js'
import { RevocationCache } from './runtime/revocation-cache.js'
import { revocationFeed } from './domain/revocation-feed.js'
import { RefusalLog, type Refusal } from './runtime/refusal-log.js'
import { createAccessTokenVerifier } from './oauth/access-token-verifier.js'
import { buildApp, type AppDeps } from './http/app.js'
import { bindListener, type Listener } from './http/listener.js'
import { createLogger, type Logger } from './runtime/logger.js'
import { TokenSigners } from './runtime/token-signers.js'
import type { ClientAuthDeps } from './oauth/client-auth/authenticate-client.js'
import { TurnQueue } from './runtime/turn-queue.js'
import { createMetrics, type Metrics } from './runtime/metrics.js'
import { KEYMINT_VERSION } from './version.js'
import { AuthThrottle } from './oauth/auth-throttle.js'
import { openServices, type Services } from './services.js'
import { DatabaseUnavailable, pingDatabase } from './store/database.js'
import { listenForChanges } from './store/changes.js'
import { coalesced } from './runtime/background.js'
import { CREDENTIAL_CACHE_DEFAULTS, CredentialCache } from './runtime/credential-cache.js'
import { DatabaseHealth } from './runtime/database-health.js'
import { watchDataVersion } from './runtime/data-version-watch.js'
import { SignInThrottle } from './runtime/sign-in-throttle.js'
import { resumeSession } from './domain/sessions.js'
import { sessionCookieFor } from './http/session-cookie.js'
import type { ManagementApiDeps } from './http/routes/management-api.js'
import type { TokenStateDeps } from './oauth/introspection.js'
import type { Readiness } from './http/routes/health.js'

export interface Bootstrapped {
  readonly account: Account
  readonly admin: User
  /** The admin's first password, to be changed at the first sign-in: shown once, stored hashed. */
  readonly oneTimePassword: string
}

/** One-time work before any server process listens: schema, first account, first signing key. */
export async function prepareInstance(config: Config): Promise<{ bootstrapped: Bootstrapped | undefined; createdMasterKeyFile: string | undefined }> {
  const services = await openServices(config, { poolSize: 2 })
  try {
    const created = await bootstrapIfEmpty(services, config.bootstrap)
    const bootstrapped = created && { ...created, oneTimePassword: await issueOneTimePassword(services, { userId: created.admin.id, actor: 'system' }) }
    await ensureServerKeys(services, config.tokens.signingAlg)
    return { bootstrapped, createdMasterKeyFile: services.createdMasterKeyFile }
  } finally {
    await services.close()
  }
}

export interface RunningServer {
  readonly app: FastifyInstance
  readonly url: string
  /** Writes pending last-used times, token counts and refusals now instead of at the next interval. */
  flushUsage(): Promise<void>
  /** Picks up revocations made by other instances now instead of at the next poll. */
  refreshRevocations(): Promise<void>
  /** Reloads server keys (rotations, retirements) now instead of at the next poll. */
  refreshKeys(): Promise<void>
  /** Stops accepting, drains in-flight requests, flushes usage, closes the database. Idempotent. */
  close(): Promise<void>
}

export interface StartOptions {
  readonly services?: Services
  /** Waits before a slowed failure answer; tests pass one that records instead of waiting. */
  readonly sleep?: (ms: number) => Promise<void>
}

/**
 * SQLite's data_version is read on use, at most every millisecond (what another process commits
 * counts at once), and every 200 ms besides (revocations and server keys reload within that).
 */
const DATA_VERSION_POLL_MS = 200
const DATA_VERSION_CHECK_MS = 1
/** How often an unreachable database is tried again. */
const DATABASE_PROBE_MS = 1000

/** The machinery one server process runs beside its routes: caches, batched writers, timers. */
interface Runtime {
  readonly health: DatabaseHealth
  readonly credentials: CredentialCache
  readonly ring: KeyRing
  readonly signers: TokenSigners
  readonly usage: KeyPairUsageRecorder
  readonly revocations: RevocationCache
  readonly refusals: RefusalLog
  readonly throttle: AuthThrottle
  readonly signInThrottle: SignInThrottle
  readonly metrics: Metrics
  start(): void
  stop(): Promise<void>
}

/** Keys, caches and writers over the opened services; nothing runs until `start`. */
async function createRuntime(config: Config, services: Services, log: Logger): Promise<Runtime> {
  const { store, clock, database } = services
  const health = new DatabaseHealth({ ping: () => pingDatabase(database.db), log, now: () => clock.now(), probeMs: DATABASE_PROBE_MS })
  // An unreachable database is logged once, by `health`, not by every task that finds it so.
  const failed = (what: string) => (err: unknown) => {
    if (err instanceof DatabaseUnavailable) health.noteError(err)
    else log.error({ err }, `${what} failed`)
  }
  let feed: { freshAsOf(): number } | undefined
  const credentials = new CredentialCache({ ...CREDENTIAL_CACHE_DEFAULTS, maxStaleMs: config.cacheMaxStaleMs }, {
    load: (id) => store.keyPairs.findCredential(id),
    freshAsOf: () => feed?.freshAsOf() ?? Number.NEGATIVE_INFINITY,
    now: () => performance.now(),
    health,
  })
  // This instance's own changes count at once: the commit is published before its caller resumes.
  const unsubscribe = database.changes.subscribe((subjects) => credentials.invalidate(subjects))
  const ring = new KeyRing({ store, clock, sealer: services.sealer, onError: failed('reloading server keys') },
    await ensureServerKeys(services, config.tokens.signingAlg))
  // Open the keys now: a wrong master key must stop the start, not fail the first request.
  ring.accessTokenSigner(config.tokens.signingAlg)
  ring.encryptionKey()
  const usage = new KeyPairUsageRecorder({ keyPairs: store.keyPairs, clock, onError: failed('recording key pair usage') })
  const revocations = new RevocationCache({ revokedTokens: store.revokedTokens, clock, onError: failed('refreshing revocations') })
  await revocations.refresh()
  const refusals = new RefusalLog({ audit: store.audit, clock, onError: failed('writing refused authentications to the audit log') })
  const throttle = new AuthThrottle({ ...config.throttle, maxEntries: 100_000 }, clock)
  const signInThrottle = new SignInThrottle({ ...config.signInThrottle, maxEntries: 100_000 }, clock)
  const metrics = createMetrics({
    revocationsCached: () => revocations.size,
    throttleEntries: () => throttle.size + signInThrottle.size,
    credentialsCached: () => credentials.size,
    credentialLookups: () => credentials.counts,
    databaseReachable: () => !health.down,
  })
  let changes: { close(): Promise<void> } | undefined
  let watch: { stop(): void } | undefined
  return {
    health, credentials, ring, usage, revocations, refusals, throttle, signInThrottle, metrics,
    signers: new TokenSigners(ring, new TurnQueue(), config.tokens.signingAlg),
    start() {
      usage.start(config.lastUsedFlushMs)
      refusals.start(config.lastUsedFlushMs)
      revocations.start(config.revocationPollMs)
      ring.start(config.keyRefreshMs)
      const reloadRevocations = coalesced(() => revocations.refresh(), failed('refreshing revocations'))
      const reloadKeys = coalesced(() => ring.refresh(), failed('reloading server keys'))
      if (database.engine === 'postgres') {
        // Other instances (and the CLI) announce their changes: reload at once instead of at the
        // next poll, which stays as the fallback; cached credentials go back to the database
        // while the listener is away.
        const listener = listenForChanges(config.database.url, {
          revocations: reloadRevocations,
          server_keys: reloadKeys,
          credentials: (subject) => credentials.invalidate([subject]),
        }, (err) => log.warn({ err }, 'listening for changes from other instances failed; polling until it reconnects'))
        feed = listener
        changes = listener
      } else if (database.dataVersion) {
        // SQLite: another process (the CLI, another server on the file) committed something.
        const read = database.dataVersion
        const watched = watchDataVersion(read, () => {
          credentials.invalidate(['*'])
          reloadRevocations()
          reloadKeys()
        }, { intervalMs: DATA_VERSION_POLL_MS, checkMs: DATA_VERSION_CHECK_MS, now: () => performance.now(), onError: failed('reading the SQLite data version') })
        feed = watched
        watch = watched
      }
    },
    async stop() {
      unsubscribe()
      watch?.stop()
      await changes?.close()
      health.stop()
      revocations.stop()
      ring.stop()
      await usage.stop()
      await refusals.stop()
    },
  }
}

/** How clients authenticate at every endpoint that takes client credentials. */
function clientAuthDeps(services: Services, runtime: Runtime, log: Logger, issuer: string, sleepFor: (ms: number) => Promise<void>): ClientAuthDeps {
  const now = () => services.clock.now()
  const findCredential = (id: KeyPairId) => runtime.credentials.get(id)
  return {
    secrets: {
      findCredential,
      secretMatch: services.secrets.match,
      // During a master key rotation: store the hash again under the current key, off the response path.
      rehash: (id: KeyPairId, secret: string) => {
        services.store.keyPairs.replaceSecretHash(id, services.secrets.hash(secret), services.secrets.keyId)
          .catch((err: unknown) => log.error({ err, clientId: id }, 're-hashing a client secret failed'))
      },
      now,
    },
    assertions: {
      findCredential,
      rememberAssertion: (id: string, expiresAt: Date) => services.store.clientAssertions.remember(id, expiresAt, now()),
      // RFC 7523 §3: aud names the token endpoint; the issuer and the other endpoints are accepted too.
      audiences: () => [issuer, `${issuer}/`, ...['token', 'token/', 'introspect', 'revoke'].map((p) => `${issuer}/oauth2/${p}`)],
      now,
    },
    throttle: runtime.throttle,
    sleep: sleepFor,
    refused: (refusal: Refusal) => {
      runtime.refusals.record(refusal)
      runtime.metrics.authenticationsRefused.inc({ reason: refusal.reason })
    },
  }
}

/** Everything the routes need, over the runtime; the issuer is known by now. */
function appDeps(config: Config, services: Services, runtime: Runtime, context: { issuer: string; log: Logger; listener: Listener; sleep: (ms: number) => Promise<void> }): AppDeps {
  const { issuer, log } = context
  const now = () => services.clock.now()
  const auth = clientAuthDeps(services, runtime, log, issuer, context.sleep)
  const tokenState = {
    verify: createAccessTokenVerifier(runtime.ring, () => issuer, now),
    findCredential: (id: KeyPairId) => runtime.credentials.get(id),
    isRevoked: (jti: string) => runtime.revocations.has(jti),
    now,
  }
  const issuedBy = { header: runtime.metrics.tokensIssued.labels('header'), oauth2: runtime.metrics.tokensIssued.labels('oauth2') }
  // Series exist from the start, so rates and absent-series alerts work before the first token.
  issuedBy.header.inc(0)
  issuedBy.oauth2.inc(0)
  return {
    token: {
      auth,
      grant: {
        signerFor: (alg) => runtime.signers.signerFor(alg), clock: services.clock, usage: runtime.usage,
        encrypt: (jws, alg) => encryptNestedJwt(jws, runtime.ring.encryptionKey(), alg),
        encryptTo: encryptNestedJwtTo,
        findApi: (accountId, identifier) => services.store.apis.findByIdentifier(accountId, identifier),
      },
      tokens: config.tokens,
      issued: (dialect) => issuedBy[dialect].inc(),
    },
    introspection: () => ({
      auth,
      feed: (accountId, since) => revocationFeed(services, { accountId, since, now: now() }),
      tokens: {
        ...tokenState,
        record: async (token) => {
          await services.store.revokedTokens.insert(token)
          runtime.revocations.add(token)
        },
      },
    }),
    management: () => managementDeps(config, services, runtime, { issuer, tokenState }),
    wellKnown: { publishedKeys: () => runtime.ring.published() },
    health: { readiness: () => readinessOf(config, runtime, services.clock) },
    metrics: { metrics: runtime.metrics, bearerToken: config.metricsToken },
    issuer,
    listener: context.listener,
    logger: log,
    trustProxy: config.server.trustProxy,
  }
}

/** What `/readyz` answers: the database asked now, and for how long cached key pairs still get tokens without it. */
async function readinessOf(config: Config, runtime: Runtime, clock: Clock): Promise<Readiness> {
  await runtime.health.check()
  const state = runtime.health.state
  if (state.reachable) return { status: 'ready' }
  const down = `database unreachable since ${state.since.toISOString()} (${state.reason})`
  const until = new Date(state.since.getTime() + config.cacheMaxStaleMs)
  if (config.cacheMaxStaleMs > 0 && until.getTime() > clock.now().getTime() && runtime.credentials.size > 0) {
    return { status: 'degraded', reason: `${down}; the ${runtime.credentials.size} key pairs held in memory get tokens until ${until.toISOString()}, everything else answers 503` }
  }
  return { status: 'unavailable', reason: config.cacheMaxStaleMs > 0 ? `${down}; no key pair held in memory may be used any longer` : `${down}; KEYMINT_CACHE_MAX_STALE is 0: no token without it` }
}

/** The management API's: the store, and how callers sign in and are recognized. */
function managementDeps(config: Config, services: Services, runtime: Runtime, context: { issuer: string; tokenState: TokenStateDeps }): ManagementApiDeps {
  const cookie = sessionCookieFor(context.issuer)
  const policy = config.sessions
  return {
    store: services.store,
    clock: services.clock,
    secrets: services.secrets,
    sealer: services.sealer,
    defaultAudiences: () => [context.issuer, ...(config.tokens.audience === undefined ? [] : [config.tokens.audience])],
    version: KEYMINT_VERSION,
    signIn: {
      policy,
      throttle: runtime.signInThrottle,
      cookie,
      refused: (refusal) => runtime.refusals.record(refusal),
    },
    auth: {
      tokens: context.tokenState,
      users: services.store.users,
      issuer: () => context.issuer,
      cookie,
      resumeSession: (sessionId) => resumeSession(services, { sessionId, policy }),
    },
  }
}

/**
 * The composition root, in dependency order: config → database and store → keys and runtime →
 * the bound socket (so the issuer is known) → the app → serving.
 */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = createLogger(config.log.level)
  const services = opts.services ?? await openServices(config)
  const runtime = await createRuntime(config, services, log)
  const listener = await bindListener(config.server.host, config.server.port)
  const issuer = config.server.issuer ?? listener.url
  const app = await buildApp(appDeps(config, services, runtime, { issuer, log, listener, sleep: opts.sleep ?? ((ms) => sleep(ms)) }))
  runtime.start()
  listener.server.on('connection', () => runtime.signers.noteConnection())
  await app.ready()
  let closing: Promise<void> | undefined
  return {
    app,
    url: listener.url,
    flushUsage: async () => { await runtime.usage.flush(); await runtime.refusals.flush() },
    refreshRevocations: () => runtime.revocations.refresh(),
    refreshKeys: () => runtime.ring.refresh(),
    close() {
      closing ??= (async () => {
        await listener.close()
        await app.close()
        await runtime.stop()
        await services.close()
      })()
      return closing
    },
  }
}
