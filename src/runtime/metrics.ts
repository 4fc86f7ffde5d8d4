import cluster from 'node:cluster'
import { randomUUID } from 'node:crypto'
import client from 'prom-client'
import { RequestDurations } from './request-durations.js'

/** What the server counts; exposed in the Prometheus text format at `/metrics`. */
export interface Metrics {
  readonly tokensIssued: client.Counter<'dialect'>
  readonly authenticationsRefused: client.Counter<'reason'>
  /** Token requests over a client's rate limit or quota: refused (`enforce`) or let through (`monitor`). */
  readonly limitOverruns: client.Counter<'limit' | 'mode'>
  readonly requestDuration: RequestDurations
  /** The exposition of this process, or of every worker under `serve --workers`. */
  readonly exposition: () => Promise<string>
  readonly contentType: string
}

export interface MetricsGauges {
  readonly revocationsCached: () => number
  readonly throttleEntries: () => number
  readonly credentialsCached?: () => number
  /** Credential lookups since start: served from memory, read from the database, served stale, shed. */
  readonly credentialLookups?: () => { readonly hit: number; readonly miss: number; readonly stale: number; readonly shed: number }
  readonly databaseReachable?: () => boolean
  /** Webhook delivery attempts since start: delivered, to be retried, given up. */
  readonly webhookAttempts?: () => { readonly delivered: number; readonly retry: number; readonly failed: number }
  /** Working key pairs (of every account) expiring within 30, 7 and 1 days, as of the last sweep. */
  readonly keyPairsExpiring?: () => Readonly<Record<'30d' | '7d' | '1d', number>> | undefined
}

// Process metrics (CPU, memory, event-loop delay, GC) are per process, not per server: collected
// once, so servers started side by side (tests) do not each start their own monitors.
let processRegistry: client.Registry | undefined
function processMetrics(): client.Registry {
  if (!processRegistry) {
    processRegistry = new client.Registry()
    client.collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

export function createMetrics(gauges: MetricsGauges): Metrics {
  const registry = new client.Registry()
  const tokensIssued = new client.Counter({
    name: 'keymint_tokens_issued_total',
    help: 'Access tokens issued, by dialect (header: /auth/oauth and /auth/oidc; oauth2: /oauth2/token)',
    labelNames: ['dialect'] as const,
    registers: [registry],
  })
  const authenticationsRefused = new client.Counter({
    name: 'keymint_client_authentications_refused_total',
    help: 'Client authentications refused, by reason (the reason codes of the audit log)',
    labelNames: ['reason'] as const,
    registers: [registry],
  })
  const limitOverruns = new client.Counter({
    name: 'keymint_client_limit_overruns_total',
    help: "Token requests over a client's rate limit or quota, by limit (rate, quota) and mode (enforce: refused with 429; monitor: let through)",
    labelNames: ['limit', 'mode'] as const,
    registers: [registry],
  })
  // Series exist from the start, so rates and alerts work before the first overrun.
  for (const limit of ['rate', 'quota']) for (const mode of ['enforce', 'monitor']) limitOverruns.inc({ limit, mode }, 0)
  const requestDuration = new RequestDurations()
  registry.registerMetric(requestDuration as unknown as client.Metric)
  new client.Gauge({
    name: 'keymint_revocations_cached',
    help: 'Revoked, unexpired tokens held in memory',
    registers: [registry],
    collect() { this.set(gauges.revocationsCached()) },
  })
  new client.Gauge({
    name: 'keymint_auth_throttle_entries',
    help: 'Addresses and client ids the failed-authentication throttle holds (bounded)',
    registers: [registry],
    collect() { this.set(gauges.throttleEntries()) },
  })
  new client.Gauge({
    name: 'keymint_credentials_cached',
    help: 'Key pairs (with client, plan and user) held in memory',
    registers: [registry],
    collect() { this.set(gauges.credentialsCached?.() ?? 0) },
  })
  new client.Counter({
    name: 'keymint_webhook_attempts_total',
    help: 'Webhook delivery attempts by this instance, by outcome: delivered (2xx), retry (will be tried again), failed (given up a day after the event)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const [outcome, n] of Object.entries(gauges.webhookAttempts?.() ?? {})) this.inc({ outcome }, n)
    },
  })
  new client.Counter({
    name: 'keymint_credential_lookups_total',
    help: 'Client credential lookups: hit (from memory), miss (read from the database), stale (from memory while the database was unreachable), shed (refused: too many lookups of unknown ids)',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const [result, n] of Object.entries(gauges.credentialLookups?.() ?? {})) this.inc({ result }, n)
    },
  })
  new client.Gauge({
    name: 'keymint_database_reachable',
    help: '1 while the database answers, 0 while it is unreachable',
    registers: [registry],
    collect() { this.set(gauges.databaseReachable?.() === false ? 0 : 1) },
  })
  new client.Gauge({
    name: 'keymint_key_pairs_expiring',
    help: 'Key pairs that still work and expire within the horizon (30d, 7d, 1d), of every account: the same on every instance',
    labelNames: ['horizon'] as const,
    registers: [registry],
    // Every instance and worker counts the same database: under --workers, one count, not their sum.
    aggregator: 'max',
    collect() {
      const counts = gauges.keyPairsExpiring?.()
      if (!counts) return
      for (const [horizon, n] of Object.entries(counts)) this.set({ horizon }, n)
    },
  })
  const registries = [processMetrics(), registry]
  const exposition = cluster.isWorker ? workerExposition(registries) : async (): Promise<string> => {
    const texts = await Promise.all(registries.map((r) => r.metrics()))
    return texts.join('\n')
  }
  return { tokensIssued, authenticationsRefused, limitOverruns, requestDuration, exposition, contentType: client.Registry.PROMETHEUS_CONTENT_TYPE }
}

const REQUEST = 'keymint:metrics-request'
const RESPONSE = 'keymint:metrics-response'
const CLUSTER_TIMEOUT_MS = 5_000

interface MetricsMessage { type?: string; id?: string; text?: string; error?: string }

/**
 * Under `serve --workers`, any worker may get the scrape: it asks the primary, which gathers and
 * sums every worker's metrics (prom-client's AggregatorRegistry) and answers over IPC.
 */
function workerExposition(registries: client.Registry[]): () => Promise<string> {
  client.AggregatorRegistry.setRegistries(registries)
  // Constructing one is what makes prom-client answer the primary's requests in this worker.
  new client.AggregatorRegistry()
  return () => new Promise((resolve, reject) => {
    const id = randomUUID()
    const onMessage = (message: MetricsMessage): void => {
      if (message.type !== RESPONSE || message.id !== id) return
      clearTimeout(timer)
      process.off('message', onMessage)
      if (message.text !== undefined) resolve(message.text)
      else reject(new Error(`the primary could not gather metrics: ${message.error ?? 'no answer'}`))
    }
    const timer = setTimeout(() => {
      process.off('message', onMessage)
      reject(new Error('the primary did not answer a metrics request in time'))
    }, CLUSTER_TIMEOUT_MS)
    process.on('message', onMessage)
    process.send?.({ type: REQUEST, id })
  })
}

/** Run in the primary of `serve --workers`: answers the workers' metrics requests. */
export function serveClusterMetrics(): void {
  const aggregator = new client.AggregatorRegistry()
  cluster.on('message', (worker, message: MetricsMessage) => {
    if (message.type !== REQUEST) return
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text }),
      (err: unknown) => worker.send({ type: RESPONSE, id: message.id, error: err instanceof Error ? err.message : String(err) }),
    )
  })
}
