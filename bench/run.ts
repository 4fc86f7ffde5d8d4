/**
 * On-demand token-endpoint benchmark (never part of CI): `npm run bench [-- --rounds N ...]`.
 *
 * Every server runs pinned to core 0 and wrk to core 1. Only one server runs at a time: the others
 * are frozen (SIGSTOP) meanwhile, so their timers and idle-time garbage collection cannot take
 * core 0 from the one under load; the CPU they use anyway is reported. Measured, after a warm-up,
 * in interleaved rounds so drift on a noisy machine is shared:
 *   keymint-RS256, keymint-ES256, keymint-EdDSA  keymint on SQLite (a fresh database per signing
 *                                               algorithm), both dialects
 *   keymint-RS256-pg, keymint-EdDSA-pg           the same on PostgreSQL (a fresh database each, made
 *                                               and dropped at KEYMINT_BENCH_PG_URL's server)
 *   keymint-RS256-2w                             `serve --workers 2` on SQLite, on both cores (wrk
 *                                               shares core 1 with the second worker)
 *   keymint-RS256-log                            keymint-RS256 at the shipped log level (info), so with
 *                                               its line per request (the others run at warn)
 *   ideal-RS256, ideal-EdDSA                     a minimal Fastify + jose token server (ideal-server.ts)
 *   oidc-provider                                node-oidc-provider, JWT access tokens via a
 *                                               resource indicator (oidc-provider-server.ts)
 *   sign                                         raw single-core signing rates, jose and node:crypto
 * and then the ratios of issue 14's targets, each marked met or missed.
 *
 * Settings: --rounds (KEYMINT_BENCH_ROUNDS, 3), --duration seconds (KEYMINT_BENCH_DURATION, 10),
 * --warmup seconds (KEYMINT_BENCH_WARMUP, 5), --connections (KEYMINT_BENCH_CONNECTIONS, 64),
 * --timeout seconds for wrk (KEYMINT_BENCH_TIMEOUT, 30), --sign-seconds per signer and round
 * (KEYMINT_BENCH_SIGN_SECONDS, 2), --quiet-wait seconds to wait for other processes to go quiet
 * before the start and before each round (KEYMINT_BENCH_QUIET_WAIT, 120), --only <names>
 * (comma-separated target names above, or the groups keymint, pg, workers, log, ideal; default all), --cpu-prof
 * <dir> (run the servers with node --cpu-prof, profiles written to <dir> when they stop).
 * Exits non-zero when any response is not 2xx or any socket error occurs. Missed targets are
 * reported, not failures.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { randomBytes, randomUUID } from 'node:crypto'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { cpuBusy } from './host.js'
import { createBenchDatabase, postgresReachable, BENCH_PG_URL } from './pg.js'
import { killAll, onPath, runChecked } from './proc.js'
import {
  childPids, keymintJson, procCpuSeconds, procMemoryMb, startPinned, startServer, stringField, type RunningServer,
} from './server.js'
import type { SignAlg, SignRates } from './sign-rate.js'
import { ensureWrk, runWrk, writeWrkScript, type WrkRequest, type WrkResult } from './wrk.js'

const HERE = dirname(fileURLToPath(import.meta.url)) // dist/bench
const REPO = resolve(HERE, '..', '..')
const BIN = join(REPO, 'bin', 'keymint')
const SERVER_CORE = 0
const LOAD_CORE = 1
/** Where `serve --workers 2` runs: both cores (wrk shares the second). */
const BOTH_CORES = '0-1'
const START_TIMEOUT_MS = 30_000
/** Pause between unfreezing a server and loading it. */
const SETTLE_MS = 500
/** The resource indicator oidc-provider's tokens are minted for. */
const RESOURCE = 'https://api.bench.keymint.test/'

type Dialect = 'header' | 'oauth2'
type KeymintAlg = 'RS256' | 'ES256' | 'EdDSA'
/** One way of running keymint: a signing algorithm, a database engine, a number of worker processes. */
interface KeymintVariant { readonly name: string; readonly alg: KeymintAlg; readonly db: 'sqlite' | 'postgres'; readonly workers: 1 | 2; readonly requestLog?: true }
const KEYMINT_VARIANTS: readonly KeymintVariant[] = [
  { name: 'keymint-RS256', alg: 'RS256', db: 'sqlite', workers: 1 },
  { name: 'keymint-ES256', alg: 'ES256', db: 'sqlite', workers: 1 },
  { name: 'keymint-EdDSA', alg: 'EdDSA', db: 'sqlite', workers: 1 },
  { name: 'keymint-RS256-pg', alg: 'RS256', db: 'postgres', workers: 1 },
  { name: 'keymint-EdDSA-pg', alg: 'EdDSA', db: 'postgres', workers: 1 },
  { name: 'keymint-RS256-2w', alg: 'RS256', db: 'sqlite', workers: 2 },
  { name: 'keymint-RS256-log', alg: 'RS256', db: 'sqlite', workers: 1, requestLog: true },
]
const IDEAL_ALGS: readonly KeymintAlg[] = ['RS256', 'EdDSA']
const SIGN_ALGS: readonly SignAlg[] = ['RS256', 'ES256', 'EdDSA']
const TARGET_NAMES = [...KEYMINT_VARIANTS.map((v) => v.name), ...IDEAL_ALGS.map((a) => `ideal-${a}`), 'oidc-provider', 'sign']
const GROUPS: Readonly<Record<string, readonly string[]>> = {
  keymint: KEYMINT_VARIANTS.map((v) => v.name),
  pg: KEYMINT_VARIANTS.filter((v) => v.db === 'postgres').map((v) => v.name),
  workers: KEYMINT_VARIANTS.filter((v) => v.workers > 1).map((v) => v.name),
  log: ['keymint-RS256', 'keymint-RS256-log'],
  ideal: IDEAL_ALGS.map((a) => `ideal-${a}`),
}

interface Settings {
  readonly rounds: number
  readonly duration: number
  readonly warmup: number
  readonly connections: number
  readonly timeout: number
  readonly signSeconds: number
  readonly quietWait: number
  readonly only: ReadonlySet<string>
  readonly cpuProfDir: string | undefined
}

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      timeout: { type: 'string' },
      'sign-seconds': { type: 'string' },
      'quiet-wait': { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  })
  const integer = (flag: string, value: string | undefined, env: string, fallback: number, min: number): number => {
    const text = value ?? process.env[env] ?? String(fallback)
    const n = Number(text)
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} (or ${env}) must be an integer >= ${min}, got ${JSON.stringify(text)}`)
    return n
  }
  const only = new Set<string>()
  for (const name of (values.only ?? TARGET_NAMES.join(',')).split(/[\s,]+/).filter((n) => n !== '')) {
    const known = TARGET_NAMES.find((t) => t.toLowerCase() === name.toLowerCase())
    const group = GROUPS[name.toLowerCase()]
    if (known !== undefined) only.add(known)
    else if (group !== undefined) for (const t of group) only.add(t)
    else throw new Error(`--only: unknown name ${JSON.stringify(name)}; known: ${[...TARGET_NAMES, ...Object.keys(GROUPS)].join(', ')}`)
  }
  if (only.size === 0) throw new Error('--only selects nothing')
  return {
    rounds: integer('rounds', values.rounds, 'KEYMINT_BENCH_ROUNDS', 3, 1),
    duration: integer('duration', values.duration, 'KEYMINT_BENCH_DURATION', 10, 1),
    warmup: integer('warmup', values.warmup, 'KEYMINT_BENCH_WARMUP', 5, 0),
    connections: integer('connections', values.connections, 'KEYMINT_BENCH_CONNECTIONS', 64, 1),
    timeout: integer('timeout', values.timeout, 'KEYMINT_BENCH_TIMEOUT', 30, 1),
    signSeconds: integer('sign-seconds', values['sign-seconds'], 'KEYMINT_BENCH_SIGN_SECONDS', 2, 1),
    quietWait: integer('quiet-wait', values['quiet-wait'], 'KEYMINT_BENCH_QUIET_WAIT', 120, 0),
    only,
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
  }
}

const say = (line: string): void => { process.stdout.write(`${line}\n`) }

const BUSY = 0.1

/**
 * Reports how busy the machine is while this benchmark itself is idle; others' load skews every
 * figure. When it is busy, waits up to `waitSeconds` for a quiet second first.
 */
async function checkIdle(when: string, waitSeconds: number): Promise<number> {
  let busy = await cpuBusy(1000)
  if (busy > BUSY && waitSeconds > 0) {
    say(`machine ${(busy * 100).toFixed(0)}% busy ${when}; waiting up to ${waitSeconds}s for it to quieten`)
    for (let waited = 1; busy > BUSY && waited < waitSeconds; waited++) busy = await cpuBusy(1000)
  }
  const note = busy > BUSY ? '  WARNING: other processes are using the CPUs; expect noisy figures' : ''
  say(`machine ${(busy * 100).toFixed(0)}% busy ${when}${note}`)
  return busy
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const upper = sorted[mid]
  const lower = sorted[sorted.length % 2 === 0 ? mid - 1 : mid]
  if (upper === undefined || lower === undefined) throw new Error('median of nothing')
  return (lower + upper) / 2
}

/** `median [min–max]`, or just the value when there is one. */
function span(values: readonly number[], digits: number): string {
  const fmt = (n: number): string => n.toFixed(digits)
  if (values.length === 1) return fmt(median(values))
  return `${fmt(median(values))} [${fmt(Math.min(...values))}–${fmt(Math.max(...values))}]`
}

/** What is wrong with one wrk run, if anything: every response must be 2xx and no socket may fail. */
function problemsOf(result: WrkResult): string[] {
  const problems: string[] = []
  if (result.non2xx > 0 || result.wrkNon2xx > 0) {
    problems.push(`${result.non2xx} non-2xx responses (wrk: ${result.wrkNon2xx} >= 400)${result.firstNon2xx ? `; first: ${result.firstNon2xx}` : ''}`)
  }
  const { connect, read, write, timeout } = result.socketErrors
  if (connect + read + write + timeout > 0) problems.push(`socket errors: connect ${connect}, read ${read}, write ${write}, timeout ${timeout}`)
  if (result.requests === 0) problems.push('no requests completed')
  return problems
}

function describe(result: WrkResult): string {
  return `${result.requestsPerSec.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, max ${result.maxMs.toFixed(0)} ms, ${result.requests} requests`
}

async function measureSignRates(seconds: number): Promise<SignRates> {
  const stdout = await runChecked('taskset', ['-c', String(SERVER_CORE), process.execPath, join(HERE, 'sign-rate.js'), String(seconds)])
  return JSON.parse(stdout) as SignRates
}

/** One server under test (a process, or a primary and its workers). */
interface Target {
  readonly name: string
  /** How it is shown: `keymint`, `keymint pg`, `keymint 2w`, `ideal`, `oidc-provider`. */
  readonly server: string
  readonly alg: KeymintAlg
  readonly variant?: KeymintVariant
  running?: RunningServer | undefined
  /** The largest of its processes'. */
  rssMb?: number
  peakMb?: number
  /** Its processes: the server, or a primary and its workers. */
  pids?: number[]
}

/** One request shape against one target: a row of the table. */
interface LoadPoint {
  readonly target: Target
  readonly dialect: Dialect
  readonly path: string
  readonly request: WrkRequest
  script: string
  readonly results: WrkResult[]
  /** Share of core 0 the server used during each round's run. */
  readonly cpu: number[]
}

const formBody = (fields: Record<string, string>): WrkRequest => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
})

/** One request before any load, so a misconfigured server fails with its own answer. */
async function probe(point: LoadPoint, url: string): Promise<void> {
  const response = await fetch(url + point.path, {
    method: point.request.method,
    headers: point.request.headers,
    ...(point.request.body === undefined ? {} : { body: point.request.body }),
  })
  const body = await response.text()
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${point.target.name} ${point.dialect}: POST ${point.path} answered ${response.status}: ${body.slice(0, 300)}`)
  }
}

interface Check { readonly what: string; readonly values: readonly number[]; readonly digits: number; readonly op: '>=' | '<='; readonly limit: number; readonly unit?: string }

async function main(): Promise<number> {
  const config = settings()
  if (!(await onPath('taskset'))) throw new Error('taskset (util-linux) is required')
  await ensureWrk()
  const busy: number[] = [await checkIdle('before start', config.quietWait)]

  const dir = mkdtempSync(join(tmpdir(), 'keymint-bench-'))
  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n${signal}: stopping\n`)
    killAll()
    rmSync(dir, { recursive: true, force: true })
    process.exit(130)
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  if (config.cpuProfDir !== undefined) mkdirSync(config.cpuProfDir, { recursive: true })
  const nodeOptions = config.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${config.cpuProfDir}`]

  const targets: Target[] = []
  const points: LoadPoint[] = []
  const databases: { drop: () => Promise<void> }[] = []
  // One master key for every keymint database of the run (PostgreSQL needs one given).
  const masterKey = randomBytes(32).toString('base64url')
  try {
    // Servers start one by one; each is idle until its own runs.
    const wantsPg = KEYMINT_VARIANTS.some((v) => v.db === 'postgres' && config.only.has(v.name))
    const pgProblem = wantsPg ? await postgresReachable() : undefined
    if (pgProblem !== undefined) throw new Error(`PostgreSQL at ${BENCH_PG_URL} is needed for the pg targets (set KEYMINT_BENCH_PG_URL, or leave them out with --only): ${pgProblem}`)
    for (const variant of KEYMINT_VARIANTS) {
      const { name, alg } = variant
      if (!config.only.has(name)) continue
      // The first signing key's algorithm is chosen on an empty database, so each gets its own.
      let db = `sqlite:${join(dir, `${name}.db`)}`
      if (variant.db === 'postgres') {
        const created = await createBenchDatabase(name)
        databases.push(created)
        db = created.url
      }
      const env = { KEYMINT_SIGNING_ALG: alg, KEYMINT_LOG_LEVEL: 'warn', KEYMINT_MASTER_KEY: masterKey }
      const account = await keymintJson(BIN, ['account', 'create', '--db', db, '--name', 'bench'], env)
      const client = await keymintJson(BIN, [
        'client', 'create', '--db', db, '--account', stringField(account, 'id'), '--name', 'bench-sub', '--level', 'subscription',
      ], env)
      const clientId = stringField(client, 'client_id')
      const clientSecret = stringField(client, 'client_secret')
      const server = variant.workers > 1 ? `keymint ${variant.workers}w` : variant.db === 'postgres' ? 'keymint pg' : variant.requestLog ? 'keymint log' : 'keymint'
      const target: Target = { name, server, alg, variant }
      target.running = await startServer({
        bin: BIN, db, core: variant.workers > 1 ? BOTH_CORES : SERVER_CORE, startTimeoutMs: START_TIMEOUT_MS, nodeOptions,
        env: variant.requestLog ? { ...env, KEYMINT_LOG_LEVEL: 'info', KEYMINT_REQUEST_LOG: 'all' } : env,
        ...(variant.workers > 1 ? { workers: variant.workers } : {}),
      })
      targets.push(target)
      points.push(
        { target, dialect: 'header', path: '/auth/oauth', request: { method: 'POST', headers: { clientId, clientSecret } }, script: '', results: [], cpu: [] },
        { target, dialect: 'oauth2', path: '/oauth2/token', request: formBody({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }), script: '', results: [], cpu: [] },
      )
    }
    for (const alg of IDEAL_ALGS) {
      const name = `ideal-${alg}`
      if (!config.only.has(name)) continue
      const clientId = randomUUID()
      const clientSecret = randomBytes(32).toString('base64url')
      const target: Target = { name, server: 'ideal', alg }
      target.running = await startPinned({
        name: 'ideal', args: [join(HERE, 'ideal-server.js'), alg, clientId, clientSecret], nodeOptions, core: SERVER_CORE, startTimeoutMs: START_TIMEOUT_MS,
      })
      targets.push(target)
      points.push({ target, dialect: 'oauth2', path: '/oauth2/token', request: formBody({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }), script: '', results: [], cpu: [] })
    }
    if (config.only.has('oidc-provider')) {
      const clientId = randomUUID()
      const clientSecret = randomBytes(32).toString('base64url')
      const target: Target = { name: 'oidc-provider', server: 'oidc-provider', alg: 'RS256' }
      target.running = await startPinned({
        name: 'oidc-provider', args: [join(HERE, 'oidc-provider-server.js'), clientId, clientSecret, RESOURCE], nodeOptions, core: SERVER_CORE, startTimeoutMs: START_TIMEOUT_MS,
      })
      targets.push(target)
      points.push({
        target, dialect: 'oauth2', path: '/token',
        request: formBody({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, resource: RESOURCE, scope: 'api' }),
        script: '', results: [], cpu: [],
      })
    }
    const measureSigning = config.only.has('sign')

    for (const target of targets) {
      const pid = target.running?.pid ?? 0
      target.pids = [pid, ...childPids(pid)]
      const workers = target.pids.length > 1 ? `, workers ${target.pids.slice(1).join(' ')}, on cores ${BOTH_CORES}` : `, pinned to core ${SERVER_CORE}`
      say(`${target.name.padEnd(17)} pid ${pid} (node${workers}) at ${target.running?.url}`)
    }
    say(`wrk: 1 thread pinned to core ${LOAD_CORE}, ${config.connections} connections`)
    const frozen = new Set<Target>()
    const signal = (target: Target, sig: NodeJS.Signals): void => {
      for (const pid of target.pids ?? []) process.kill(pid, sig)
    }
    const resume = (target: Target): void => {
      if (frozen.delete(target) && target.running) signal(target, 'SIGCONT')
    }
    const freezeAllBut = (keep: Target | undefined): void => {
      for (const target of targets) {
        if (target === keep) resume(target)
        else if (!frozen.has(target) && target.running) {
          signal(target, 'SIGSTOP')
          frozen.add(target)
        }
      }
    }
    for (const [i, point] of points.entries()) {
      point.script = writeWrkScript(dir, `${i}-${point.target.name}-${point.dialect}`, point.request)
      await probe(point, urlOf(point))
    }

    const failures: string[] = []
    let othersCpuMax = 0
    const load = async (point: LoadPoint, seconds: number, label: string): Promise<WrkResult & { cpu: number }> => {
      // Only this server runs on core 0; let it settle before the load starts.
      freezeAllBut(point.target)
      await sleep(SETTLE_MS)
      const cpuOf = (target: Target): number => (target.pids ?? []).reduce((sum, pid) => sum + procCpuSeconds(pid), 0)
      const others = targets.filter((t) => t !== point.target)
      const cpuBefore = [cpuOf(point.target), ...others.map(cpuOf)]
      const started = performance.now()
      const result = await runWrk({
        url: urlOf(point) + point.path, script: point.script, seconds,
        connections: config.connections, core: LOAD_CORE, timeoutSeconds: config.timeout,
      })
      const wall = (performance.now() - started) / 1000
      const cpuAfter = [cpuOf(point.target), ...others.map(cpuOf)]
      const used = cpuAfter.map((after, i) => (after - (cpuBefore[i] ?? 0)) / wall)
      const selfCpu = used[0] ?? 0
      othersCpuMax = Math.max(othersCpuMax, used.slice(1).reduce((a, b) => a + b, 0))
      const problems = problemsOf(result)
      say(`${label} ${point.target.name.padEnd(14)} ${point.dialect.padEnd(6)} ${describe(result)}, cpu ${(selfCpu * 100).toFixed(0)}%${problems.length > 0 ? `  FAILED: ${problems.join('; ')}` : ''}`)
      for (const p of problems) failures.push(`${label} ${point.target.name} ${point.dialect}: ${p}`)
      return Object.assign(result, { cpu: selfCpu })
    }

    if (config.warmup > 0) {
      for (const point of points) await load(point, config.warmup, `warm-up ${config.warmup}s`)
    }
    const signing: SignRates[] = []
    for (let round = 1; round <= config.rounds; round++) {
      busy.push(await checkIdle(`before round ${round}`, config.quietWait))
      // Alternate the order, so drift on a noisy machine is shared.
      const order = round % 2 === 1 ? points : [...points].reverse()
      const label = `round ${round}/${config.rounds}`
      for (const point of order) {
        const result = await load(point, config.duration, label)
        point.results.push(result)
        point.cpu.push(result.cpu)
      }
      if (measureSigning) {
        freezeAllBut(undefined)
        const rates = await measureSignRates(config.signSeconds)
        signing.push(rates)
        say(`${label} raw signing/s on core ${SERVER_CORE}: ${SIGN_ALGS.map((a) => `${a} node:crypto ${rates.rates[a].nodeCrypto.toFixed(0)}, jose ${rates.rates[a].jose.toFixed(0)}`).join('; ')}`)
      }
    }
    for (const target of targets) resume(target)
    for (const target of targets) {
      target.rssMb = Math.max(...(target.pids ?? []).map((pid) => procMemoryMb(pid, 'VmRSS')))
      target.peakMb = Math.max(...(target.pids ?? []).map((pid) => procMemoryMb(pid, 'VmHWM')))
    }

    for (const target of targets) {
      const running = target.running
      if (running === undefined) continue
      target.running = undefined
      const exitCode = await running.stop()
      if (exitCode !== 0) failures.push(`${target.name} exited with ${exitCode} after SIGTERM`)
      const output = running.laterOutput()
      if (target.variant?.requestLog) {
        say(`${target.name} wrote ${output.count} line(s) while under load (one per request); the last: ${output.last.at(-1) ?? '(none)'}`)
      } else if (output.count > 0) {
        say(`${target.name} printed ${output.count} line(s) while under load; the last ${Math.min(output.last.length, 20)}:`)
        for (const line of output.last.slice(-20)) say(`  ${line}`)
      }
    }
    if (targets.length > 0) say('servers exited after SIGTERM')
    if (config.cpuProfDir !== undefined) say(`CPU profiles in ${config.cpuProfDir}`)

    say(report(config, points, signing, targets, othersCpuMax, Math.max(...busy)))
    if (failures.length > 0) {
      say(`\nFAILED: ${failures.length} problem(s); the figures above are not valid:`)
      for (const f of failures) say(`  - ${f}`)
      return 1
    }
    return 0
  } finally {
    for (const target of targets) {
      // A frozen server would not act on SIGTERM.
      for (const pid of target.pids ?? []) { try { process.kill(pid, 'SIGCONT') } catch { /* gone */ } }
      await target.running?.stop().catch(() => {})
    }
    killAll()
    for (const database of databases) await database.drop().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}

function urlOf(point: LoadPoint): string {
  const url = point.target.running?.url
  if (url === undefined) throw new Error(`${point.target.name} is not running`)
  return url
}

/** Per-round quotients of two series measured in the same rounds. */
function quotients(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x / (b[i] ?? Number.NaN)).filter((q) => Number.isFinite(q))
}

function report(config: Settings, points: readonly LoadPoint[], signing: readonly SignRates[], targets: readonly Target[], othersCpuMax: number, busiest: number): string {
  const rounds = `${config.rounds} round${config.rounds === 1 ? '' : 's'} x ${config.duration}s`
  const lines = [
    '',
    `token servers — each alone under load on core ${SERVER_CORE}, wrk on core ${LOAD_CORE}, ${config.connections} connections, ${config.warmup}s warm-up, ${rounds}`,
    `(median [min–max] over rounds; p50/p99: median over rounds; RSS after the rounds, peak in parentheses)`,
    `${'server'.padEnd(15)}${'dialect'.padEnd(8)}${'alg'.padEnd(7)}${'tokens/s'.padEnd(20)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(9)}${'p99/p50'.padStart(9)}${'cpu'.padStart(6)}${'RSS MB'.padStart(14)}`,
  ]
  for (const point of points) {
    const rates = point.results.map((r) => r.requestsPerSec)
    const p50 = median(point.results.map((r) => r.p50Ms))
    const p99 = median(point.results.map((r) => r.p99Ms))
    const memory = `${(point.target.rssMb ?? 0).toFixed(0)} (${(point.target.peakMb ?? 0).toFixed(0)})`
    lines.push(`${point.target.server.padEnd(15)}${point.dialect.padEnd(8)}${point.target.alg.padEnd(7)}${span(rates, 0).padEnd(20)}${p50.toFixed(1).padStart(8)}${p99.toFixed(1).padStart(9)}${(p99 / p50).toFixed(1).padStart(9)}${`${(median(point.cpu) * 100).toFixed(0)}%`.padStart(6)}${memory.padStart(14)}`)
  }
  if (targets.length > 1) lines.push(`frozen servers on core ${SERVER_CORE} used at most ${(othersCpuMax * 100).toFixed(1)}% of it during any run`)

  const sign = (alg: SignAlg, library: 'nodeCrypto' | 'jose'): number[] => signing.map((s) => s.rates[alg][library])
  if (signing.length > 0) {
    lines.push(
      '',
      `raw signing on core ${SERVER_CORE}, servers frozen (${signing[0]?.payloadBytes}-byte payload, ${config.signSeconds}s per signer per round in 250 ms slices; signatures/s)`,
      `${'alg'.padEnd(8)}${'node:crypto'.padEnd(22)}${'jose'.padEnd(22)}`,
    )
    for (const alg of SIGN_ALGS) lines.push(`${alg.padEnd(8)}${span(sign(alg, 'nodeCrypto'), 0).padEnd(22)}${span(sign(alg, 'jose'), 0).padEnd(22)}`)
  }

  const find = (name: string, dialect: Dialect): LoadPoint | undefined => points.find((p) => p.target.name === name && p.dialect === dialect)
  const rates = (point: LoadPoint | undefined): number[] => point?.results.map((r) => r.requestsPerSec) ?? []
  const checks: Check[] = []
  const infos: { what: string; values: number[]; digits: number }[] = []
  const ideal = find('ideal-RS256', 'oauth2')
  const idealEd = find('ideal-EdDSA', 'oauth2')
  const oidc = find('oidc-provider', 'oauth2')
  for (const dialect of ['header', 'oauth2'] as const) {
    for (const alg of ['RS256', 'EdDSA'] as const) {
      const sqlite = find(`keymint-${alg}`, dialect)
      const pg = find(`keymint-${alg}-pg`, dialect)
      if (sqlite && pg) checks.push({ what: `keymint ${alg} ${dialect}: PostgreSQL ÷ SQLite`, values: quotients(rates(pg), rates(sqlite)), digits: 2, op: '>=', limit: 0.9 })
    }
    const ed = find('keymint-EdDSA', dialect)
    if (ed && idealEd) checks.push({ what: `keymint EdDSA ${dialect} ÷ ideal EdDSA`, values: quotients(rates(ed), rates(idealEd)), digits: 2, op: '>=', limit: 1.5 })
    const rs = find('keymint-RS256', dialect)
    if (rs && signing.length > 0) checks.push({ what: `keymint RS256 ${dialect} ÷ raw node:crypto RS256`, values: quotients(rates(rs), sign('RS256', 'nodeCrypto')), digits: 2, op: '>=', limit: 0.9 })
    const two = find('keymint-RS256-2w', dialect)
    if (rs && two) checks.push({ what: `keymint RS256 ${dialect}: 2 workers ÷ 1`, values: quotients(rates(two), rates(rs)), digits: 2, op: '>=', limit: 1.8 })
  }
  for (const point of points.filter((p) => p.target.variant !== undefined)) {
    checks.push({
      what: `${point.target.server} ${point.target.alg} ${point.dialect} p99 ÷ p50`,
      values: point.results.map((r) => r.p99Ms / r.p50Ms), digits: 1, op: '<=', limit: 3,
    })
  }
  for (const target of targets.filter((t) => t.variant !== undefined)) {
    checks.push({ what: `${target.server} ${target.alg} peak RSS`, values: [target.peakMb ?? 0], digits: 0, op: '<=', limit: 150, unit: ' MB' })
  }
  for (const dialect of ['header', 'oauth2'] as const) {
    const rs = find('keymint-RS256', dialect)
    if (rs && ideal) infos.push({ what: `keymint RS256 ${dialect} ÷ ideal RS256`, values: quotients(rates(rs), rates(ideal)), digits: 2 })
    if (rs && oidc) infos.push({ what: `keymint RS256 ${dialect} ÷ oidc-provider`, values: quotients(rates(rs), rates(oidc)), digits: 2 })
    const logged = find('keymint-RS256-log', dialect)
    if (rs && logged) infos.push({ what: `keymint RS256 ${dialect}: a log line per request ÷ none`, values: quotients(rates(logged), rates(rs)), digits: 3 })
    const es = find('keymint-ES256', dialect)
    if (rs && es) infos.push({ what: `keymint ES256 ${dialect} ÷ keymint RS256 ${dialect}`, values: quotients(rates(es), rates(rs)), digits: 2 })
  }
  if (ideal && idealEd) infos.push({ what: 'ideal EdDSA ÷ ideal RS256', values: quotients(rates(idealEd), rates(ideal)), digits: 2 })
  for (const alg of SIGN_ALGS) {
    for (const dialect of ['header', 'oauth2'] as const) {
      const point = find(`keymint-${alg}`, dialect)
      if (point && signing.length > 0 && alg !== 'RS256') {
        infos.push({ what: `keymint ${alg} ${dialect} ÷ raw node:crypto ${alg}`, values: quotients(rates(point), sign(alg, 'nodeCrypto')), digits: 2 })
      }
    }
  }

  if (checks.length > 0) {
    const width = Math.max(...checks.map((c) => c.what.length), ...infos.map((i) => i.what.length)) + 2
    lines.push('', `targets (issue 14), each from this run; ratios are median [min–max] of the per-round ratios`)
    for (const check of checks) {
      const mid = median(check.values)
      const met = check.op === '>=' ? mid >= check.limit : mid <= check.limit
      const unit = check.unit ?? ''
      lines.push(`${check.what.padEnd(width)}${`${span(check.values, check.digits)}${unit}`.padEnd(22)}${`${check.op === '>=' ? '≥' : '≤'} ${check.limit}${unit}`.padEnd(10)}${met ? 'met' : 'MISSED'}`)
    }
  }
  if (infos.length > 0) {
    const width = Math.max(...infos.map((i) => i.what.length), ...checks.map((c) => c.what.length)) + 2
    lines.push('', 'for reference')
    for (const info of infos) lines.push(`${info.what.padEnd(width)}${span(info.values, info.digits)}`)
  }
  if (busiest > BUSY) lines.push(`note: the machine was up to ${(busiest * 100).toFixed(0)}% busy with other work while the benchmark was idle`)
  return lines.join('\n')
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
