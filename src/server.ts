import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import type { CompactSigner, SigningAlg } from './crypto/jws.js'
import type { Config } from './config.js'
import { bootstrapIfEmpty } from './domain/bootstrap.js'
import { KeyPairUsageRecorder } from './runtime/key-pair-usage.js'
import type { Account, KeyPairId, User } from './domain/types.js'
import { encryptNestedJwt, encryptNestedJwtTo } from './crypto/jwe.js'
import { KeyRing } from './runtime/key-ring.js'
import { ensureServerKeys } from './domain/server-keys.js'
import { RevocationCache } from './runtime/revocation-cache.js'
import { revocationFeed } from './domain/revocation-feed.js'
import { RefusalLog, type Refusal } from './runtime/refusal-log.js'
import { createAccessTokenVerifier } from './oauth/access-token-verifier.js'
import { buildApp } from './http/app.js'
import { TurnQueue } from './runtime/turn-queue.js'
import { createMetrics } from './runtime/metrics.js'
import { KEYMINT_VERSION } from './version.js'
import { AuthThrottle } from './oauth/auth-throttle.js'
import { openServices, type Services } from './services.js'
import { pingDatabase } from './store/database.js'
import { listenForChanges } from './store/changes.js'
import { coalesced } from './runtime/background.js'

export interface Bootstrapped {
  readonly account: Account
  readonly admin: User
}

/** One-time work before any server process listens: schema, first account, first signing key. */
export async function prepareInstance(config: Config): Promise<{ bootstrapped: Bootstrapped | undefined; createdMasterKeyFile: string | undefined }> {
  const services = await openServices(config, { poolSize: 2 })
  try {
    const bootstrapped = await bootstrapIfEmpty(services, config.bootstrap)
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

/** Builds the app over an opened instance and listens. */
export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const services = opts.services ?? await openServices(config)
  const ring = new KeyRing({
    store: services.store,
    clock: services.clock,
    sealer: services.sealer,
    onError: (err) => app.log.error({ err }, 'reloading server keys failed'),
  }, await ensureServerKeys(services, config.tokens.signingAlg))
  // Open the keys now: a wrong master key must stop the start, not fail the first request.
  ring.accessTokenSigner(config.tokens.signingAlg)
  ring.encryptionKey()
  const defaultAlg = config.tokens.signingAlg
  // One signature per event-loop turn, so a saturated server still accepts connections and
  // serves them in arrival order (see TurnQueue). Only a missing algorithm waits on the store.
  const signingTurns = new TurnQueue()
  const signerFor = async (alg: SigningAlg | null): Promise<CompactSigner> => {
    const wanted = alg ?? defaultAlg
    const signer = ring.canSign(wanted) ? ring.accessTokenSigner(wanted) : await ring.signerFor(wanted)
    await signingTurns.turn()
    return signer
  }
  const usage = new KeyPairUsageRecorder({
    keyPairs: services.store.keyPairs,
    clock: services.clock,
    // Runs only from the flush timer, after `app` exists.
    onError: (err) => app.log.error({ err }, 'recording key pair usage failed'),
  })
  const revocations = new RevocationCache({
    revokedTokens: services.store.revokedTokens,
    clock: services.clock,
    onError: (err) => app.log.error({ err }, 'refreshing revocations failed'),
  })
  await revocations.refresh()
  const refusals = new RefusalLog({
    audit: services.store.audit,
    clock: services.clock,
    onError: (err) => app.log.error({ err }, 'writing refused authentications to the audit log failed'),
  })
  const throttle = new AuthThrottle({ ...config.throttle, maxEntries: 100_000 }, services.clock)
  const metrics = createMetrics({ revocationsCached: () => revocations.size, throttleEntries: () => throttle.size })
  const issuedBy = { header: metrics.tokensIssued.labels('header'), oauth2: metrics.tokensIssued.labels('oauth2') }
  // Series exist from the start, so rates and absent-series alerts work before the first token.
  issuedBy.header.inc(0)
  issuedBy.oauth2.inc(0)
  const now = () => services.clock.now()
  const findCredential = (id: KeyPairId) => services.store.keyPairs.findCredential(id)
  const auth = {
    secrets: {
      findCredential,
      secretMatch: services.secrets.match,
      // During a master key rotation: store the hash again under the current key, off the response path.
      rehash: (id: KeyPairId, secret: string) => {
        services.store.keyPairs.replaceSecretHash(id, services.secrets.hash(secret), services.secrets.keyId)
          .catch((err: unknown) => app.log.error({ err, clientId: id }, 're-hashing a client secret failed'))
      },
      now,
    },
    assertions: {
      findCredential,
      rememberAssertion: (id: string, expiresAt: Date) => services.store.clientAssertions.remember(id, expiresAt, now()),
      // RFC 7523 §3: aud names the token endpoint; the issuer and the other endpoints are accepted too.
      audiences: () => {
        const issuer = app.issuer()
        return [issuer, `${issuer}/`, ...['token', 'token/', 'introspect', 'revoke'].map((p) => `${issuer}/oauth2/${p}`)]
      },
      now,
    },
    throttle,
    sleep: opts.sleep ?? ((ms: number) => sleep(ms)),
    refused: (refusal: Refusal) => {
      refusals.record(refusal)
      metrics.authenticationsRefused.inc({ reason: refusal.reason })
    },
  }
  const tokenState = (issuer: () => string) => ({
    verify: createAccessTokenVerifier(ring, issuer, now),
    findCredential,
    isRevoked: (jti: string) => revocations.has(jti),
    now,
  })
  const app = await buildApp({
    token: {
      auth,
      grant: {
        signerFor, clock: services.clock, usage,
        encrypt: (jws, alg) => encryptNestedJwt(jws, ring.encryptionKey(), alg),
        encryptTo: encryptNestedJwtTo,
        findApi: (accountId, identifier) => services.store.apis.findByIdentifier(accountId, identifier),
      },
      tokens: config.tokens,
      issued: (dialect) => issuedBy[dialect].inc(),
    },
    introspection: (issuer) => ({
      auth,
      feed: (accountId, since) => revocationFeed(services, { accountId, since, now: now() }),
      tokens: {
        ...tokenState(issuer),
        record: async (token) => {
          await services.store.revokedTokens.insert(token)
          revocations.add(token)
        },
      },
    }),
    management: (issuer) => ({
      store: services.store,
      clock: services.clock,
      secrets: services.secrets,
      defaultAudiences: () => [issuer(), ...(config.tokens.audience === undefined ? [] : [config.tokens.audience])],
      version: KEYMINT_VERSION,
      auth: { tokens: tokenState(issuer), users: services.store.users, issuer },
    }),
    wellKnown: { publishedKeys: () => ring.published() },
    health: { ping: () => pingDatabase(services.database.db) },
    metrics: { metrics, bearerToken: config.metricsToken },
    issuer: config.server.issuer,
    host: config.server.host,
    logLevel: config.log.level,
    trustProxy: config.server.trustProxy,
  })
  usage.start(config.lastUsedFlushMs)
  refusals.start(config.lastUsedFlushMs)
  revocations.start(config.revocationPollMs)
  ring.start(config.keyRefreshMs)
  // With PostgreSQL, other instances announce revocations and key changes: reload at once
  // instead of at the next poll (which stays as the fallback).
  const changes = services.database.engine === 'postgres'
    ? listenForChanges(config.database.url, {
      revocations: coalesced(() => revocations.refresh(), (err) => app.log.error({ err }, 'refreshing revocations failed')),
      server_keys: coalesced(() => ring.refresh(), (err) => app.log.error({ err }, 'reloading server keys failed')),
    }, (err) => app.log.warn({ err }, 'listening for changes from other instances failed; polling until it reconnects'))
    : undefined
  app.server.on('connection', () => signingTurns.noteConnection())
  await app.listen({ host: config.server.host, port: config.server.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : config.server.port
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host
  let closing: Promise<void> | undefined
  return {
    app,
    url: `http://${host}:${port}`,
    flushUsage: async () => { await usage.flush(); await refusals.flush() },
    refreshRevocations: () => revocations.refresh(),
    refreshKeys: () => ring.refresh(),
    close() {
      closing ??= (async () => {
        await app.close()
        await changes?.close()
        revocations.stop()
        ring.stop()
        await usage.stop()
        await refusals.stop()
        await services.close()
      })()
      return closing
    },
  }
}
