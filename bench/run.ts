/**
 * On-demand token-endpoint benchmark (never part of CI): `npm run bench [-- --rounds N --duration S]`.
 * The server runs pinned to core 0 and wrk to core 1; both dialects are measured in interleaved
 * rounds after a warm-up, and the raw single-core RS256 signing rate is measured alongside.
 * Settings: --rounds (KEYMINT_BENCH_ROUNDS, 3), --duration seconds (KEYMINT_BENCH_DURATION, 10),
 * --warmup seconds (KEYMINT_BENCH_WARMUP, 5), --connections (KEYMINT_BENCH_CONNECTIONS, 64),
 * --timeout seconds for wrk (KEYMINT_BENCH_TIMEOUT, 30).
 * Exits non-zero when any response is not 2xx or any socket error occurs.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { cpuBusy } from './host.js'
import { killAll, onPath, runChecked } from './proc.js'
import { keymintJson, procMemoryMb, startServer, stringField, type RunningServer } from './server.js'
import { ensureWrk, runWrk, writeWrkScript, type WrkResult } from './wrk.js'

const HERE = dirname(fileURLToPath(import.meta.url)) // dist/bench
const REPO = resolve(HERE, '..', '..')
const BIN = join(REPO, 'bin', 'keymint')
const SERVER_CORE = 0
const LOAD_CORE = 1
const SIGN_SECONDS = 3

type Dialect = 'header' | 'oauth2'
const DIALECTS: readonly Dialect[] = ['header', 'oauth2']

interface Settings {
  readonly rounds: number
  readonly duration: number
  readonly warmup: number
  readonly connections: number
  readonly timeout: number
}

function settings(): Settings {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      timeout: { type: 'string' },
    },
  })
  const integer = (flag: string, value: string | undefined, env: string, fallback: number, min: number): number => {
    const text = value ?? process.env[env] ?? String(fallback)
    const n = Number(text)
    if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} (or ${env}) must be an integer >= ${min}, got ${JSON.stringify(text)}`)
    return n
  }
  return {
    rounds: integer('rounds', values.rounds, 'KEYMINT_BENCH_ROUNDS', 3, 1),
    duration: integer('duration', values.duration, 'KEYMINT_BENCH_DURATION', 10, 1),
    warmup: integer('warmup', values.warmup, 'KEYMINT_BENCH_WARMUP', 5, 0),
    connections: integer('connections', values.connections, 'KEYMINT_BENCH_CONNECTIONS', 64, 1),
    timeout: integer('timeout', values.timeout, 'KEYMINT_BENCH_TIMEOUT', 30, 1),
  }
}

const say = (line: string): void => { process.stdout.write(`${line}\n`) }

/** Reports how busy the machine is while this benchmark itself is idle; others' load skews every figure. */
async function checkIdle(when: string): Promise<number> {
  const busy = await cpuBusy(1000)
  const note = busy > 0.1 ? '  WARNING: other processes are using the CPUs; expect noisy figures' : ''
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

interface SignRate { readonly nodeCrypto: number; readonly jose: number; readonly tokenBytes: number; readonly payloadBytes: number }

async function measureSignRate(): Promise<SignRate> {
  const stdout = await runChecked('taskset', ['-c', String(SERVER_CORE), process.execPath, join(HERE, 'sign-rate.js'), String(SIGN_SECONDS)])
  return JSON.parse(stdout) as SignRate
}

async function main(): Promise<number> {
  const config = settings()
  if (!(await onPath('taskset'))) throw new Error('taskset (util-linux) is required')
  await ensureWrk()
  const busy: number[] = [await checkIdle('before start')]

  const dir = mkdtempSync(join(tmpdir(), 'keymint-bench-'))
  let server: RunningServer | undefined
  const interrupt = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n${signal}: stopping\n`)
    killAll()
    rmSync(dir, { recursive: true, force: true })
    process.exit(130)
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    const db = `sqlite:${join(dir, 'bench.db')}`
    const account = await keymintJson(BIN, ['account', 'create', '--db', db, '--name', 'bench'])
    const client = await keymintJson(BIN, [
      'client', 'create', '--db', db, '--account', stringField(account, 'id'), '--name', 'bench-sub', '--level', 'subscription',
    ])
    const clientId = stringField(client, 'client_id')
    const clientSecret = stringField(client, 'client_secret')
    const scripts: Record<Dialect, { path: string; script: string }> = {
      header: {
        path: '/auth/oauth',
        script: writeWrkScript(dir, 'header', { method: 'POST', headers: { clientId, clientSecret } }),
      },
      oauth2: {
        path: '/oauth2/token',
        script: writeWrkScript(dir, 'oauth2', {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
        }),
      },
    }

    server = await startServer({ bin: BIN, db, core: SERVER_CORE, startTimeoutMs: 30_000 })
    say(`server pid ${server.pid} (node, pinned to core ${SERVER_CORE}) at ${server.url}; wrk pinned to core ${LOAD_CORE}`)
    const running = server
    const failures: string[] = []
    const load = async (dialect: Dialect, seconds: number, label: string): Promise<WrkResult> => {
      const target = scripts[dialect]
      const result = await runWrk({
        url: running.url + target.path, script: target.script, seconds,
        connections: config.connections, core: LOAD_CORE, timeoutSeconds: config.timeout,
      })
      const problems = problemsOf(result)
      say(`${label} ${dialect.padEnd(6)} ${describe(result)}${problems.length > 0 ? `  FAILED: ${problems.join('; ')}` : ''}`)
      for (const p of problems) failures.push(`${label} ${dialect}: ${p}`)
      return result
    }

    if (config.warmup > 0) {
      for (const dialect of DIALECTS) await load(dialect, config.warmup, `warm-up ${config.warmup}s`)
    }
    const results: Record<Dialect, WrkResult[]> = { header: [], oauth2: [] }
    for (let round = 1; round <= config.rounds; round++) {
      // Alternate which dialect goes first, so drift on a noisy machine is shared.
      const order = round % 2 === 1 ? DIALECTS : [...DIALECTS].reverse()
      for (const dialect of order) results[dialect].push(await load(dialect, config.duration, `round ${round}/${config.rounds}`))
    }
    const rssMb = procMemoryMb(running.pid, 'VmRSS')
    const peakMb = procMemoryMb(running.pid, 'VmHWM')

    busy.push(await checkIdle('with the server idle'))
    say(`measuring raw RS256 signing on core ${SERVER_CORE} (server idle), ${SIGN_SECONDS}s per signer, interleaved`)
    const signing = await measureSignRate()

    const exitCode = await running.stop()
    server = undefined
    if (exitCode === 0) say('server exited 0 after SIGTERM')
    else failures.push(`server exited with ${exitCode} after SIGTERM`)
    const output = running.laterOutput()
    if (output.count > 0) {
      say(`server printed ${output.count} line(s) while under load; the last ${output.last.length}:`)
      for (const line of output.last.slice(-20)) say(`  ${line}`)
    }

    const rounds = `${config.rounds} round${config.rounds === 1 ? '' : 's'} x ${config.duration}s`
    const table = [
      '',
      `keymint bench — SQLite, RS256, ${config.connections} connections, ${rounds} (median [min–max])`,
      `${'dialect'.padEnd(15)}${'tokens/s'.padEnd(20)}${'p50 ms'.padStart(6)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}`,
    ]
    const ratios: string[] = []
    for (const dialect of DIALECTS) {
      const rates = results[dialect].map((r) => r.requestsPerSec)
      const mid = median(rates)
      const span = `${mid.toFixed(0)} [${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}]`
      const p50 = median(results[dialect].map((r) => r.p50Ms)).toFixed(1)
      const p99 = median(results[dialect].map((r) => r.p99Ms)).toFixed(1)
      const max = Math.max(...results[dialect].map((r) => r.maxMs)).toFixed(0)
      table.push(`${dialect.padEnd(15)}${span.padEnd(20)}${p50.padStart(6)}${p99.padStart(9)}${max.padStart(9)}`)
      ratios.push(`${dialect} ${(mid / signing.nodeCrypto).toFixed(2)}`)
    }
    table.push(
      `server RSS: ${rssMb.toFixed(0)} MB (peak ${peakMb.toFixed(0)} MB)`,
      `raw RS256 signing (1 core, ${signing.payloadBytes}-byte payload): node:crypto ${signing.nodeCrypto.toFixed(0)}/s, jose ${signing.jose.toFixed(0)}/s`,
      `ratio keymint/raw node:crypto: ${ratios.join(', ')}`,
      'p50/p99: median over rounds; max: worst of all rounds',
    )
    if (Math.max(...busy) > 0.1) table.push(`note: the machine was up to ${(Math.max(...busy) * 100).toFixed(0)}% busy with other work while the benchmark was idle`)
    say(table.join('\n'))

    if (failures.length > 0) {
      say(`\nFAILED: ${failures.length} problem(s); the figures above are not valid:`)
      for (const f of failures) say(`  - ${f}`)
      return 1
    }
    return 0
  } finally {
    if (server) await server.stop().catch(() => {})
    killAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
