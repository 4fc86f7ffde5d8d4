import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, readlinkSync } from 'node:fs'
import { basename } from 'node:path'
import { createInterface } from 'node:readline'
import { runChecked, track } from './proc.js'

/** Runs `node <repo>/bin/keymint <args> --json` and parses its one JSON object. */
export async function keymintJson(bin: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const stdout = await runChecked(process.execPath, [bin, ...args, '--json'], env === undefined ? {} : { env: { ...process.env, ...env } })
  const parsed: unknown = JSON.parse(stdout)
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`keymint ${args.join(' ')}: expected a JSON object, got ${stdout}`)
  return parsed as Record<string, unknown>
}

export function stringField(object: Record<string, unknown>, key: string): string {
  const value = object[key]
  if (typeof value !== 'string') throw new Error(`expected a string "${key}" in ${JSON.stringify(object)}`)
  return value
}

/** One field of /proc/<pid>/status, e.g. `VmRSS` (kB) or `Cpus_allowed_list`. */
export function procStatus(pid: number, field: string): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`))
  if (line === undefined) throw new Error(`/proc/${pid}/status has no ${field}`)
  return line.slice(field.length + 1).trim()
}

/** A kB field of /proc/<pid>/status in MB. */
export function procMemoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = /^(\d+) kB$/.exec(procStatus(pid, field))
  if (!match?.[1]) throw new Error(`unexpected ${field} in /proc/${pid}/status`)
  return Number(match[1]) / 1024
}

export interface RunningServer {
  readonly url: string
  readonly pid: number
  /** Output after the listening line: how many lines, and the last few (the pipes are always drained). */
  readonly laterOutput: () => { readonly count: number; readonly last: readonly string[] }
  /** SIGTERM, then the exit code (SIGKILL and an error when it does not exit in time). */
  readonly stop: () => Promise<number | null>
}

const KEEP_LINES = 200

/** CPU time (user + system) a process has used so far, in seconds; /proc counts in 1/100 s ticks. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 overall.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

export interface PinnedServer {
  /** Shown in messages; the server must print `<name> listening on <url>` once it listens. */
  readonly name: string
  /** Arguments to node: a script and its arguments. */
  readonly args: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  /** Options for node itself, e.g. `--cpu-prof`. */
  readonly nodeOptions?: readonly string[]
  /** A core, or a list taskset takes (`0-1`). */
  readonly core: number | string
  readonly startTimeoutMs: number
}

/** The processes a process started (a cluster primary's workers). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '').map(Number)
  } catch {
    return []
  }
}

/** Starts `keymint serve` pinned to a core (or cores: `0-1`) and resolves once it prints its URL. */
export function startServer(options: { bin: string; db: string; core: number | string; startTimeoutMs: number; env?: NodeJS.ProcessEnv; nodeOptions?: readonly string[]; workers?: number }): Promise<RunningServer> {
  return startPinned({
    name: 'keymint',
    args: [options.bin, 'serve', '--db', options.db, '--port', '0', ...(options.workers === undefined ? [] : ['--workers', String(options.workers)])],
    env: { KEYMINT_LOG_LEVEL: 'warn', ...options.env },
    core: options.core,
    startTimeoutMs: options.startTimeoutMs,
    ...(options.nodeOptions === undefined ? {} : { nodeOptions: options.nodeOptions }),
  })
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Starts a node server pinned to one core and resolves once it prints its URL. */
export async function startPinned(options: PinnedServer): Promise<RunningServer> {
  const listening = new RegExp(`^${escapeRegExp(options.name)} listening on (http:\\/\\/\\S+)`)
  // taskset execs node, so the child's pid is the server's own.
  const child: ChildProcess = track(spawn('taskset', [
    '-c', String(options.core), process.execPath, ...(options.nodeOptions ?? []), ...options.args,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } }))
  const lines: string[] = []
  let count = 0
  const remember = (line: string): void => {
    count++
    lines.push(line)
    if (lines.length > KEEP_LINES) lines.shift()
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  if (!child.stdout || !child.stderr) throw new Error(`${options.name} stdio is not piped`)
  createInterface({ input: child.stderr }).on('line', (line) => remember(`[stderr] ${line}`))
  const stdout = createInterface({ input: child.stdout })

  const url = await new Promise<string>((resolve, reject) => {
    let found: string | undefined
    const timer = setTimeout(() => reject(new Error(`${options.name} printed no URL within ${options.startTimeoutMs} ms:\n${lines.join('\n')}`)), options.startTimeoutMs)
    stdout.on('line', (line) => {
      const match = found === undefined ? listening.exec(line) : null
      if (match?.[1]) {
        found = match[1]
        clearTimeout(timer)
        resolve(found)
      } else {
        remember(line)
      }
    })
    child.once('error', (err) => { clearTimeout(timer); reject(err) })
    void exited.then((code) => {
      clearTimeout(timer)
      if (found === undefined) reject(new Error(`${options.name} exited with ${code} before listening:\n${lines.join('\n')}`))
    })
  })
  lines.length = 0
  count = 0
  const pid = child.pid
  if (pid === undefined) throw new Error(`${options.name} has no pid`)
  // Check that the pid really is the pinned node process, not a taskset wrapper.
  const exe = basename(readlinkSync(`/proc/${pid}/exe`))
  const cpus = procStatus(pid, 'Cpus_allowed_list')
  if (exe !== basename(process.execPath) || cpus !== String(options.core)) {
    throw new Error(`pid ${pid} is ${exe} on CPUs ${cpus}; expected ${basename(process.execPath)} on CPU ${options.core}`)
  }

  return {
    url,
    pid,
    laterOutput: () => ({ count, last: [...lines] }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 10_000, 'timeout').unref())
      const outcome = await Promise.race([exited, timeout])
      if (outcome === 'timeout') {
        child.kill('SIGKILL')
        throw new Error(`${options.name} did not exit within 10 s of SIGTERM`)
      }
      return outcome
    },
  }
}
