import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { onPath, runChecked, run } from './proc.js'

/** Installs wrk with apt-get when it is missing. */
export async function ensureWrk(): Promise<void> {
  if (await onPath('wrk')) return
  process.stdout.write('wrk not found; running: apt-get update && apt-get install -y wrk\n')
  await runChecked('apt-get', ['update'], { inherit: true })
  await runChecked('apt-get', ['install', '-y', 'wrk'], { inherit: true })
  if (!(await onPath('wrk'))) throw new Error('wrk is still not on PATH after apt-get install')
  process.stdout.write('wrk installed\n')
}

export interface WrkRequest {
  readonly method: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
}

const lua = (value: string): string => JSON.stringify(value) // a JSON string is a valid Lua string literal here (ASCII only)

/**
 * Writes a wrk script for one request shape. Each wrk thread has its own Lua state and `done`
 * runs in yet another one, so per-thread counters are collected through `setup`'s thread handles.
 * Prints `NON2XX <n>` and, when there were any, `FIRST_NON2XX <status> <body>`.
 */
export function writeWrkScript(dir: string, name: string, request: WrkRequest): string {
  for (const text of [request.method, request.body ?? '', ...Object.entries(request.headers).flat()]) {
    if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`wrk script ${name}: only printable ASCII is supported`)
  }
  const lines = [
    `wrk.method = ${lua(request.method)}`,
    ...Object.entries(request.headers).map(([header, value]) => `wrk.headers[${lua(header)}] = ${lua(value)}`),
    request.body === undefined ? 'wrk.body = nil' : `wrk.body = ${lua(request.body)}`,
    '',
    'local threads = {}',
    'function setup(thread) table.insert(threads, thread) end',
    'function init(args) non2xx = 0; first_status = 0; first_body = "" end',
    'function response(status, headers, body)',
    '  if status < 200 or status > 299 then',
    '    non2xx = non2xx + 1',
    '    if first_status == 0 then first_status = status; first_body = string.sub(body or "", 1, 300) end',
    '  end',
    'end',
    'function done(summary, latency, requests)',
    '  local total, status, body = 0, 0, ""',
    '  for _, thread in ipairs(threads) do',
    '    local n = thread:get("non2xx") or 0',
    '    total = total + n',
    '    if status == 0 and n > 0 then status = thread:get("first_status"); body = thread:get("first_body") end',
    '  end',
    '  io.write(string.format("NON2XX %d\\n", total))',
    '  if total > 0 then io.write(string.format("FIRST_NON2XX %d %s\\n", status, (string.gsub(body, "%s+", " ")))) end',
    'end',
    '',
  ]
  const file = join(dir, `${name}.lua`)
  writeFileSync(file, lines.join('\n'))
  return file
}

export interface WrkResult {
  readonly requests: number
  readonly seconds: number
  readonly requestsPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Non-2xx responses counted by the script. */
  readonly non2xx: number
  /** wrk's own `Non-2xx or 3xx responses` (it counts status >= 400). */
  readonly wrkNon2xx: number
  readonly firstNon2xx: string | undefined
  readonly socketErrors: { readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number }
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** wrk prints durations as e.g. `812.00us`, `38.12ms`, `1.02s`, `2.00m`. */
export function durationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text)
  const factor = match?.[2] === undefined ? undefined : UNIT_MS[match[2]]
  if (!match?.[1] || factor === undefined) throw new Error(`unrecognised wrk duration ${JSON.stringify(text)}`)
  return Number(match[1]) * factor
}

function required(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output)
  if (!match) throw new Error(`wrk output has no ${what}:\n${output}`)
  return match
}

export function parseWrk(output: string): WrkResult {
  const total = required(output, /^\s*(\d+) requests in ([\d.]+\w+),/m, 'request total')
  const rate = required(output, /^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec line')
  const stats = required(output, /^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)/m, 'latency statistics')
  const p50 = required(output, /^\s+50%\s+(\S+)/m, '50% latency (was --latency given?)')
  const p99 = required(output, /^\s+99%\s+(\S+)/m, '99% latency')
  const scripted = required(output, /^NON2XX (\d+)$/m, 'NON2XX line from the script')
  const wrkNon2xx = /^\s*Non-2xx or 3xx responses: (\d+)/m.exec(output)
  const socket = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/m.exec(output)
  const first = /^FIRST_NON2XX (.*)$/m.exec(output)
  return {
    requests: Number(total[1]),
    seconds: durationMs(total[2] ?? '') / 1000,
    requestsPerSec: Number(rate[1]),
    p50Ms: durationMs(p50[1] ?? ''),
    p99Ms: durationMs(p99[1] ?? ''),
    maxMs: durationMs(stats[3] ?? ''),
    non2xx: Number(scripted[1]),
    wrkNon2xx: Number(wrkNon2xx?.[1] ?? 0),
    firstNon2xx: first?.[1],
    socketErrors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
  }
}

export interface WrkRun {
  readonly url: string
  readonly script: string
  readonly seconds: number
  readonly connections: number
  readonly core: number
  /**
   * wrk drops responses slower than this from the latency distribution and counts them as
   * socket timeouts (default 2 s). Keep it well above the worst latency so p99 is honest and
   * a timeout means a request that really got no answer.
   */
  readonly timeoutSeconds: number
}

/** One wrk run: a single thread pinned to `core`, with the latency distribution. */
export async function runWrk(options: WrkRun): Promise<WrkResult> {
  const args = [
    '-c', String(options.core), 'wrk', '-t1', `-c${options.connections}`, `-d${options.seconds}s`,
    '--timeout', `${options.timeoutSeconds}s`, '--latency', '-s', options.script, options.url,
  ]
  const result = await run('taskset', args)
  if (result.code !== 0) {
    throw new Error(`taskset ${args.join(' ')} exited with ${result.signal ?? result.code}:\n${result.stdout}${result.stderr}`)
  }
  return parseWrk(result.stdout + result.stderr)
}
