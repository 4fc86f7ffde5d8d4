import { WebhookDeliverer } from './webhook-delivery.js'
import { ExpiryReminders } from './expiry-reminders.js'
import type { Config } from '../config.js'
import { recordLimitReached } from '../domain/limit-overruns.js'
import { ensureServerKeys } from '../domain/server-keys.js'
import { AuthThrottle } from '../oauth/auth-throttle.js'
import type { Services } from '../services.js'
import { listenForChanges } from '../store/changes.js'
import type { CredentialSubject } from '../store/credential-changes.js'
import { answeredWithin, DatabaseUnavailable, pingDatabase } from '../store/database.js'
import { coalesced, every } from './background.js'
import { ClientLimits } from './client-limits.js'
import { CREDENTIAL_CACHE_DEFAULTS, CredentialCache } from './credential-cache.js'
import { DatabaseHealth } from './database-health.js'
import { watchDataVersion } from './data-version-watch.js'
import { ISSUER_KEYS_DEFAULTS, IssuerKeys } from './issuer-keys.js'
import { KeyPairUsageRecorder } from './key-pair-usage.js'
import { KeyRing } from './key-ring.js'
import type { Logger } from './logger.js'
import { createMetrics, type Metrics } from './metrics.js'
import { QuotaCounts } from './quota-counts.js'
import { RateWindows } from './rate-windows.js'
import { RefusalLog } from './refusal-log.js'
import { RevocationCache } from './revocation-cache.js'
import { SignInThrottle } from './sign-in-throttle.js'
import { TokenSigners } from './token-signers.js'
import { TurnQueue } from './turn-queue.js'

/**
 * SQLite's data_version is read on use, at most every millisecond (what another process commits
 * counts at once), and every 200 ms besides (revocations and server keys reload within that).
 */
const DATA_VERSION_POLL_MS = 200
const DATA_VERSION_CHECK_MS = 1
/** How often an unreachable database is tried again. */
const DATABASE_PROBE_MS = 1000
/** How often ids of DPoP proofs too old to be accepted anyway are dropped (never on the token path). */
const DPOP_PURGE_MS = 60_000
/** A quota client unseen this long is forgotten (its stored count is read again at its next use). */
const QUOTA_IDLE_MS = 600_000

/** The machinery one server process runs beside its routes: caches, batched writers, timers. */
export interface Runtime {
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
  readonly webhooks: WebhookDeliverer
  /** External issuers' keys, for workload identity federation. */
  readonly issuerKeys: IssuerKeys
  /** Rate limits (per instance) and quotas (across instances) of the clients that have them. */
  readonly limits: ClientLimits
  readonly quotas: QuotaCounts
  /** Waits for the limits reached so far to be recorded (audit, webhook outbox). */
  limitsRecorded(): Promise<void>
  readonly expiryReminders: ExpiryReminders
  /** Resolves once changes other processes committed before the call have been applied. */
  syncChanges(): Promise<void>
  start(): void
  stop(): Promise<void>
}

/** The parts of a runtime, before it is started. */
type RuntimeParts = Omit<Runtime, 'syncChanges' | 'start' | 'stop'>

type Failed = (what: string) => (err: unknown) => void

/** Other processes' changes, once `start` follows them. */
interface Feed { following?: OtherProcesses | undefined }

/** Keys, caches and writers over the opened services; nothing runs until `start`. */
export async function createRuntime(config: Config, services: Services, log: Logger): Promise<Runtime> {
  const { store, clock, database } = services
  const health = new DatabaseHealth({ ping: () => pingDatabase(database.db), log, now: () => clock.now(), probeMs: DATABASE_PROBE_MS })
  // An unreachable database is logged once, by `health`, not by every task that finds it so.
  const failed: Failed = (what) => (err) => {
    if (err instanceof DatabaseUnavailable) health.noteError(err)
    else log.error({ err }, `${what} failed`)
  }
  // Set by `start`: until then no other process's change is followed, and every cached credential is re-read after freshMs.
  const feed: Feed = {}
  const credentials = new CredentialCache({ ...CREDENTIAL_CACHE_DEFAULTS, maxStaleMs: config.cacheMaxStaleMs, unknownPerSecond: config.unknownClientRate }, {
    load: (id) => answeredWithin(store.keyPairs.findCredential(id), 'a key pair lookup'),
    freshAsOf: () => feed.following?.freshAsOf() ?? Number.NEGATIVE_INFINITY,
    now: () => performance.now(),
    health,
  })
  const ring = new KeyRing({ store, clock, sealer: services.sealer, onError: failed('reloading server keys') },
    await ensureServerKeys(services, config.tokens.signingAlg))
  // Open the keys now: a wrong master key must stop the start, not fail the first request.
  ring.accessTokenSigner(config.tokens.signingAlg)
  ring.encryptionKey()
  const revocations = new RevocationCache({ revokedTokens: store.revokedTokens, clock, onError: failed('refreshing revocations') })
  await revocations.refresh()
  const throttle = new AuthThrottle({ ...config.throttle, maxEntries: 100_000 }, clock)
  const signInThrottle = new SignInThrottle({ ...config.signInThrottle, maxEntries: 100_000 }, clock)
  const webhooks = new WebhookDeliverer({ webhooks: store.webhooks, clock, sealer: services.sealer, onError: failed('delivering webhooks') }, { timeoutMs: config.webhooks.timeoutMs })
  const expiryReminders = new ExpiryReminders({ store, clock, onError: failed('sending key pair expiry reminders') })
  const metrics = createMetrics({
    revocationsCached: () => revocations.size,
    throttleEntries: () => throttle.size + signInThrottle.size,
    credentialsCached: () => credentials.size,
    credentialLookups: () => credentials.counts,
    databaseReachable: () => !health.down,
    webhookAttempts: () => webhooks.outcomes,
    keyPairsExpiring: () => expiryReminders.expiring,
  })
  const quotas = new QuotaCounts({ usage: store.clientUsage, clock, onError: failed('counting quota use') }, { idleMs: QUOTA_IDLE_MS })
  const parts: RuntimeParts = {
    health, credentials, ring, revocations, throttle, signInThrottle, metrics, webhooks, expiryReminders, quotas,
    ...clientLimits({ store, clock, quotas, metrics, onError: failed('recording a client limit reached') }),
    usage: new KeyPairUsageRecorder({ keyPairs: store.keyPairs, clock, onError: failed('recording key pair usage') }),
    refusals: new RefusalLog({ audit: store.audit, clock, onError: failed('writing refused authentications to the audit log') }),
    // On the service clock: its TTL and once-a-minute refresh are minutes, where wall time serves, and tests can move it.
    issuerKeys: new IssuerKeys({ ...ISSUER_KEYS_DEFAULTS, allowLoopback: config.federation.allowLoopback }, { now: () => clock.now().getTime() }),
    signers: new TokenSigners(ring, new TurnQueue(), config.tokens.signingAlg),
  }
  return { ...parts, ...lifecycle(config, services, parts, feed, { log, failed }) }
}

/** Starting and stopping a runtime's timers, writers and change feed, in that order and the reverse. */
function lifecycle(
  config: Config,
  { store, clock, database }: Services,
  parts: RuntimeParts,
  feed: Feed,
  opts: { log: Logger; failed: Failed },
): Pick<Runtime, 'syncChanges' | 'start' | 'stop'> {
  const { credentials, revocations, ring, usage, quotas, refusals, webhooks, expiryReminders, health } = parts
  const { failed } = opts
  // This instance's own changes count at once: the commit is published before its caller resumes.
  const unsubscribe = database.changes.subscribe((subjects) => credentials.invalidate(subjects))
  let stopPurge: (() => void) | undefined
  return {
    async syncChanges() {
      // PostgreSQL's announcements arrive on the listening connection (credentials are forgotten
      // as they arrive; SQLite's data version is read at every lookup). Revocations and keys
      // reload in the background when announced, so they are reloaded here and waited for.
      await feed.following?.sync()
      await Promise.all([revocations.refresh(), ring.refresh()])
    },
    start() {
      usage.start(config.lastUsedFlushMs)
      quotas.start(config.lastUsedFlushMs)
      refusals.start(config.lastUsedFlushMs)
      revocations.start(config.revocationPollMs)
      ring.start(config.keyRefreshMs)
      webhooks.start(config.webhooks.pollMs)
      stopPurge = every(DPOP_PURGE_MS, () => store.dpopProofs.purgeExpired(clock.now()), failed('purging used DPoP proof ids'))
      expiryReminders.start(config.keyExpiryCheckMs)
      feed.following = followOtherProcesses(config, database, {
        credentials: (subjects) => credentials.invalidate(subjects),
        revocations: coalesced(() => revocations.refresh(), failed('refreshing revocations')),
        keys: coalesced(() => ring.refresh(), failed('reloading server keys')),
      }, opts)
    },
    async stop() {
      unsubscribe()
      stopPurge?.()
      await feed.following?.stop()
      health.stop()
      revocations.stop()
      ring.stop()
      await expiryReminders.stop()
      await webhooks.stop()
      await parts.limitsRecorded()
      await usage.stop()
      await quotas.stop()
      await refusals.stop()
    },
  }
}

/** What other processes commit, as this one learns of it. */
interface OtherProcesses {
  /** When this process last knew it had seen every change (performance.now() milliseconds). */
  freshAsOf(): number
  /** Resolves once changes committed before the call have been announced here. */
  sync(): Promise<void>
  stop(): Promise<void>
}

/**
 * Follows other instances' and the CLI's commits: PostgreSQL announces them (reloads happen at
 * once instead of at the next poll, which stays as the fallback; cached credentials go back to
 * the database while the listener is away), SQLite's data version shows that something changed.
 */
function followOtherProcesses(
  config: Config,
  database: Services['database'],
  reload: { credentials: (subjects: CredentialSubject[]) => void; revocations: () => void; keys: () => void },
  opts: { log: Logger; failed: Failed },
): OtherProcesses | undefined {
  if (database.engine === 'postgres') {
    const listener = listenForChanges(config.database.url, {
      revocations: reload.revocations,
      server_keys: reload.keys,
      credentials: (subject) => reload.credentials([subject]),
    }, (err) => opts.log.warn({ err }, 'listening for changes from other instances failed; polling until it reconnects'))
    return { freshAsOf: () => listener.freshAsOf(), sync: () => listener.sync(), stop: () => listener.close() }
  }
  const read = database.dataVersion
  if (!read) return undefined
  const watched = watchDataVersion(read, () => {
    reload.credentials(['*'])
    reload.revocations()
    reload.keys()
  }, { intervalMs: DATA_VERSION_POLL_MS, checkMs: DATA_VERSION_CHECK_MS, now: () => performance.now(), onError: opts.failed('reading the SQLite data version') })
  // SQLite's data version is read at every credential lookup: nothing to wait for.
  return { freshAsOf: () => watched.freshAsOf(), sync: async () => {}, stop: async () => watched.stop() }
}

/** Client limits whose first overrun per window is recorded off the token path; `limitsRecorded` waits for those writes. */
function clientLimits(deps: { store: Services['store']; clock: Services['clock']; quotas: QuotaCounts; metrics: Metrics; onError: (err: unknown) => void }): {
  limits: ClientLimits; limitsRecorded: () => Promise<void>
} {
  const recording = new Set<Promise<void>>()
  const limits = new ClientLimits({
    clock: deps.clock,
    rates: new RateWindows(100_000),
    quotas: deps.quotas,
    overran: (limit, mode) => deps.metrics.limitOverruns.inc({ limit, mode }),
    // Off the token path: once per client, limit and window on this instance, and once in the database.
    reached: (reached) => {
      const recorded: Promise<void> = recordLimitReached({ store: deps.store, clock: deps.clock }, reached).then(() => {}, deps.onError).finally(() => recording.delete(recorded))
      recording.add(recorded)
    },
  })
  return { limits, limitsRecorded: async () => { await Promise.all(recording) } }
}
