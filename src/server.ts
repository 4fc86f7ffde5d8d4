import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import { bootstrapIfEmpty } from './domain/bootstrap.js'
import { issueOneTimePassword } from './domain/passwords.js'
import type { Account, FederationPolicyId, KeyPairId, User } from './domain/types.js'
import type { Clock } from './domain/ports.js'
import { encryptNestedJwt, encryptNestedJwtTo } from './crypto/jwe.js'
import { ensureServerKeys } from './domain/server-keys.js'
import { revocationFeed } from './domain/revocation-feed.js'
import type { Refusal } from './runtime/refusal-log.js'
import type { ExpirySweep } from './domain/expiry-reminders.js'
import { createAccessTokenVerifier } from './oauth/access-token-verifier.js'
import { buildApp, type AppDeps } from './http/app.js'
import { bindListener, type Listener } from './http/listener.js'
import { createLoggers, type Logger } from './runtime/logger.js'
import type { ClientAuthDeps } from './oauth/client-auth/authenticate-client.js'
import type { WorkloadAuthDeps } from './oauth/federation/authenticate-workload.js'
import { createRuntime, type Runtime } from './runtime/runtime.js'
import { KEYMINT_VERSION } from './version.js'
import { openServices, type Services } from './services.js'
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
  /**
   * Writes pending last uses, token and quota counts and refusals now instead of at the next
   * interval (and reads other instances' quota counts); waits for limits reached to be recorded.
   */
  flushUsage(): Promise<void>
  /** Sends the webhook deliveries due now instead of at the next poll; how many it attempted. */
  deliverWebhooks(): Promise<number>
  /** Looks for key pairs to remind of their expiry now instead of at the next interval. */
  sweepKeyPairExpiry(): Promise<ExpirySweep | undefined>
  /** Picks up revocations made by other instances now instead of at the next poll. */
  refreshRevocations(): Promise<void>
  /** Waits until changes other processes (instances, the CLI) committed before the call are applied. */
  syncChanges(): Promise<void>
  /** Reloads server keys (rotations, retirements) now instead of at the next poll. */
  refreshKeys(): Promise<void>
  /** Stops accepting, drains in-flight requests, flushes usage, closes the database. Idempotent. */
  close(): Promise<void>
}

export interface StartOptions {
  readonly services?: Services
  /** Waits before a slowed failure answer; tests pass one that records instead of waiting. */
  readonly sleep?: (ms: number) => Promise<void>
  /** How long a stop lets open connections finish before closing them (10 s). */
  readonly drainMs?: number
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

/** Platform tokens for workload identity federation: trust policies, issuers' keys, the shared replay store. */
function workloadAuthDeps(services: Services, runtime: Runtime, auth: ClientAuthDeps): WorkloadAuthDeps {
  const now = () => services.clock.now()
  return {
    tokens: {
      policiesForIssuer: (issuer) => services.store.federationPolicies.listByIssuer(issuer),
      issuerKeys: (issuer) => runtime.issuerKeys.keys(issuer),
      issuerKeysAfterUnknownKid: (issuer) => runtime.issuerKeys.keysAfterUnknownKid(issuer),
      findCredential: (id) => services.store.federationPolicies.findCredential(id),
      rememberToken: (id, expiresAt) => services.store.clientAssertions.remember(id, expiresAt, now()),
      now,
    },
    throttle: auth.throttle,
    sleep: auth.sleep,
    refused: auth.refused,
  }
}

/** Everything the routes need, over the runtime; the issuer is known by now. */
function appDeps(config: Config, services: Services, runtime: Runtime, context: { issuer: string; log: Logger; requestLog: Logger; listener: Listener; sleep: (ms: number) => Promise<void> }): AppDeps {
  const { issuer, log } = context
  const now = () => services.clock.now()
  const auth = clientAuthDeps(services, runtime, log, issuer, context.sleep)
  const tokenState = {
    verify: createAccessTokenVerifier(runtime.ring, () => issuer, now),
    findCredential: (id: KeyPairId) => runtime.credentials.get(id),
    findPolicyCredential: (id: FederationPolicyId) => services.store.federationPolicies.findCredential(id),
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
      workloads: workloadAuthDeps(services, runtime, auth),
      grant: {
        signerFor: (alg) => runtime.signers.signerFor(alg), clock: services.clock, usage: runtime.usage, limits: runtime.limits,
        encrypt: (jws, alg) => encryptNestedJwt(jws, runtime.ring.encryptionKey(), alg),
        encryptTo: encryptNestedJwtTo,
        findApi: (accountId, identifier) => services.store.apis.findByIdentifier(accountId, identifier),
      },
      dpop: {
        settings: config.dpop,
        nonces: services.dpopNonces,
        now,
        remember: (id, expiresAt) => services.store.dpopProofs.remember(id, expiresAt, now()),
        refused: auth.refused,
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
    requestLog: { mode: config.log.requests, logger: context.requestLog },
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
    passwords: services.passwords,
    sealer: services.sealer,
    webhooks: config.webhooks,
    federation: config.federation,
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
  const loggers = createLoggers(config.log.level)
  const log = loggers.log
  const services = opts.services ?? await openServices(config)
  const runtime = await createRuntime(config, services, log)
  const listener = await bindListener(config.server.host, config.server.port, { drainMs: opts.drainMs })
  const issuer = config.server.issuer ?? listener.url
  const app = await buildApp(appDeps(config, services, runtime, { issuer, log, requestLog: loggers.requests, listener, sleep: opts.sleep ?? ((ms) => sleep(ms)) }))
  runtime.start()
  listener.server.on('connection', () => runtime.signers.noteConnection())
  await app.ready()
  let closing: Promise<void> | undefined
  return {
    app,
    url: listener.url,
    flushUsage: async () => {
      await runtime.limitsRecorded()
      await runtime.usage.flush()
      await runtime.quotas.flush()
      await runtime.refusals.flush()
    },
    deliverWebhooks: () => runtime.webhooks.deliverDue(),
    sweepKeyPairExpiry: () => runtime.expiryReminders.sweep(),
    refreshRevocations: () => runtime.revocations.refresh(),
    syncChanges: () => runtime.syncChanges(),
    refreshKeys: () => runtime.ring.refresh(),
    close() {
      closing ??= (async () => {
        await listener.close()
        await app.close()
        await runtime.stop()
        await services.close()
        loggers.end()
      })()
      return closing
    },
  }
}
