/**
 * Where the time of one token goes: runs `keymint serve` under `node --cpu-prof` on one core,
 * loads it with wrk from the other, and attributes every CPU sample of the measured run to a
 * stage of the token path (the innermost frame a stage claims, walking out from the sample).
 * Prints microseconds per token for each stage.
 *
 * Usage: node dist/bench/stages.js [--alg EdDSA] [--db sqlite|postgres] [--dialect oauth2|header]
 *   [--seconds 10] [--warmup 3] [--connections 64] [--bin <bin/keymint of any checkout>] [--top N]
 *   [--rate-limit 1000000/s] [--quota 1000000000/month] [--quota-mode enforce|monitor]
 *   [--log-level warn] (`info`: with the line per request, as shipped)
 * `--bin` measures another build (say, the main branch) with this same tool. The limit flags give
 * the measured client limits (`client create` flags): set them high enough never to refuse.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { randomBytes } from 'node:crypto'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createBenchDatabase } from './pg.js'
import { killAll } from './proc.js'
import { keymintJson, startServer, stringField } from './server.js'
import { ensureWrk, runWrk, writeWrkScript } from './wrk.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO = resolve(HERE, '..', '..')

/** A stage and the frames it claims, by script URL (or node-internal module) and function name. */
interface Stage { readonly name: string; readonly match: (url: string, fn: string) => boolean }

const src = (...files: string[]) => (url: string): boolean => files.some((f) => url.includes(`/dist/src/${f}`))
const mod = (...names: string[]) => (url: string): boolean => names.some((n) => url.includes(`/node_modules/${n}/`))

// Most specific first: the first stage that claims a frame, walking from the sample outwards, wins.
const STAGES: readonly Stage[] = [
  { name: 'sign (node:crypto)', match: (url) => url === 'node:internal/crypto/sig' },
  { name: 'HMAC of the secret, compare', match: (url) => url === 'node:internal/crypto/hash' || src('crypto/client-secrets.js')(url) },
  { name: 'JWT encoding (JSON, base64url)', match: (url) => src('crypto/jws.js')(url) },
  { name: 'jti (randomUUID)', match: (url) => url === 'node:internal/crypto/random' },
  { name: 'credential lookup (cache, store, driver)', match: (url) => src('runtime/credential-cache.js', 'store/')(url) || mod('kysely', 'better-sqlite3', 'pg', 'pg-protocol', 'pg-pool')(url) },
  { name: 'client authentication checks, throttle', match: (url) => src('oauth/client-auth/', 'oauth/auth-throttle.js', 'http/credentials.js', 'domain/validation.js', 'domain/types.js')(url) },
  { name: 'client limits (rate, quota)', match: (url) => src('runtime/client-limits.js', 'runtime/rate-windows.js', 'runtime/quota-counts.js', 'oauth/client-limits.js', 'domain/client-limits.js')(url) },
  { name: 'grant: scope, claims', match: (url) => src('oauth/grants/', 'oauth/scopes.js', 'oauth/mint-access-token.js', 'oauth/client-authorization.js', 'domain/users.js')(url) },
  { name: 'signer, key ring, turns', match: (url) => src('runtime/token-signers.js', 'runtime/turn-queue.js', 'runtime/key-ring.js', 'domain/server-keys.js')(url) },
  { name: 'usage, metrics, logging', match: (url) => src('runtime/key-pair-usage.js', 'runtime/metrics.js', 'runtime/background.js', 'http/routes/metrics.js', 'http/request-log.js')(url) || mod('prom-client', 'pino', '@pinojs', 'sonic-boom', 'tdigest', 'bintrees')(url) },
  { name: 'route handler, hooks (keymint)', match: (url) => src('http/')(url) },
  { name: 'form body, schema validation', match: (url, fn) => mod('ajv', 'fast-uri', 'fast-querystring')(url) || /content-type-parser|validation\.js/.test(url) || /^validate\d*$/.test(fn) },
  { name: 'response serialization', match: (url) => mod('fast-json-stringify')(url) },
  { name: 'Fastify (routing, request, reply)', match: (url) => mod('fastify', 'find-my-way', 'avvio', 'light-my-request', '@fastify', 'fastq', 'rfdc', 'toad-cache', 'safe-regex2', 'ret', 'process-warning')(url) },
  { name: 'Node HTTP, sockets', match: (url) => /^node:(_http|net|internal\/(http|stream|streams|net|timers|process|async_hooks|event_target|url|buffer)|events|buffer|stream|timers)/.test(url) },
  { name: 'garbage collection', match: (_url, fn) => fn === '(garbage collector)' },
]
const UNATTRIBUTED = 'other (V8, native, elsewhere)'

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

/** Microseconds per stage over the samples taken between `from` and `to` (µs since the profile's start). */
export function attribute(profile: CpuProfile, from: number, to: number): { stages: Map<string, number>; idle: number; self: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const stageOf = new Map<number, string>()
  const classify = (id: number): string => {
    const known = stageOf.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)
    let stage: string
    if (!node) stage = UNATTRIBUTED
    else {
      const { url, functionName } = node.callFrame
      const own = STAGES.find((s) => s.match(url, functionName))?.name
      const up = parent.get(id)
      stage = own ?? (up === undefined ? UNATTRIBUTED : classify(up))
    }
    stageOf.set(id, stage)
    return stage
  }
  const stages = new Map<string, number>()
  const self = new Map<string, number>()
  let idle = 0
  let t = 0
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0
    const dt = profile.timeDeltas[i + 1] ?? 0
    if (t < from || t > to) continue
    const id = profile.samples[i]!
    const frame = byId.get(id)?.callFrame
    if (frame?.functionName === '(idle)') { idle += dt; continue }
    const stage = classify(id)
    stages.set(stage, (stages.get(stage) ?? 0) + dt)
    const key = `${frame?.functionName || '(anonymous)'} ${frame?.url.replace(/^.*?\/(node_modules|dist)\//, '$1/') ?? ''}:${frame?.lineNumber ?? 0}`
    self.set(key, (self.get(key) ?? 0) + dt)
  }
  return { stages, idle, self }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      alg: { type: 'string', default: 'EdDSA' },
      db: { type: 'string', default: 'sqlite' },
      dialect: { type: 'string', default: 'oauth2' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '64' },
      bin: { type: 'string', default: join(REPO, 'bin', 'keymint') },
      top: { type: 'string', default: '0' },
      'rate-limit': { type: 'string' },
      quota: { type: 'string' },
      'quota-mode': { type: 'string' },
      'log-level': { type: 'string', default: 'warn' },
    },
  })
  await ensureWrk()
  const seconds = Number(values.seconds)
  const dir = mkdtempSync(join(tmpdir(), 'keymint-stages-'))
  const profDir = join(dir, 'profile')
  const masterKey = randomBytes(32).toString('base64url')
  const pg = values.db === 'postgres' ? await createBenchDatabase('stages') : undefined
  const db = pg?.url ?? `sqlite:${join(dir, 'keymint.db')}`
  const env = { KEYMINT_SIGNING_ALG: values.alg, KEYMINT_LOG_LEVEL: values['log-level'], KEYMINT_MASTER_KEY: masterKey }
  try {
    const account = await keymintJson(values.bin, ['account', 'create', '--db', db, '--name', 'stages'], env)
    const limits = (['rate-limit', 'quota', 'quota-mode'] as const).flatMap((flag) => values[flag] === undefined ? [] : [`--${flag}`, values[flag]])
    const client = await keymintJson(values.bin, ['client', 'create', '--db', db, '--account', stringField(account, 'id'), '--name', 'stages', '--level', 'subscription', ...limits], env)
    const [clientId, clientSecret] = [stringField(client, 'client_id'), stringField(client, 'client_secret')]
    const request = values.dialect === 'header'
      ? { method: 'POST', headers: { clientId, clientSecret } }
      : { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString() }
    const path = values.dialect === 'header' ? '/auth/oauth' : '/oauth2/token'
    const script = writeWrkScript(dir, 'stages', request)
    const server = await startServer({ bin: values.bin, db, core: 0, startTimeoutMs: 30_000, env, nodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=100'] })
    const wrk = (s: number) => runWrk({ url: server.url + path, script, seconds: s, connections: Number(values.connections), core: 1, timeoutSeconds: 30 })
    await wrk(Number(values.warmup))
    const result = await wrk(seconds)
    const stoppedAt = performance.now()
    await server.stop()
    const shutdownMs = performance.now() - stoppedAt
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
    if (!file) throw new Error('no CPU profile was written')
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile
    // The measured run ended just before the stop: the window is the profile's end less the shutdown.
    const end = profile.endTime - profile.startTime - shutdownMs * 1000
    const { stages, idle, self } = attribute(profile, end - result.seconds * 1e6, end)
    const tokens = result.requests
    const busy = [...stages.values()].reduce((a, b) => a + b, 0)
    const say = (line: string): void => { process.stdout.write(`${line}\n`) }
    say(`${values.bin}: ${values.alg}, ${values.db}, ${values.dialect}${limits.length > 0 ? `, ${limits.join(' ')}` : ''}; ${tokens} tokens in ${result.seconds.toFixed(1)} s (${result.requestsPerSec.toFixed(0)}/s), p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms${result.non2xx > 0 ? `, ${result.non2xx} non-2xx` : ''}`)
    say(`CPU per token ${(busy / tokens).toFixed(1)} µs busy + ${(idle / tokens).toFixed(1)} µs idle (profiled: sampling adds a little to each)`)
    for (const [name, us] of [...stages].sort((a, b) => b[1] - a[1])) say(`${(us / tokens).toFixed(2).padStart(8)} µs  ${name}`)
    const top = Number(values.top)
    if (top > 0) {
      say('\nself time by function')
      for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) say(`${(us / tokens).toFixed(2).padStart(8)} µs  ${name}`)
    }
  } finally {
    killAll()
    await pg?.drop().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`stages failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
})
