import assert from 'node:assert/strict'
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { cleanup } from './cleanup.js'
import type { RunRequest, RunResult } from './cli-runner.js'
import { createTestDatabase, type Dialect } from './dialects.js'
import { adminOf, type ApiCall } from './management.js'
import { TEST_PASSWORD_ENV } from './password-cost.js'
import { startTestServer, tempDir, type SeededClient, type TestServer } from './server.js'

export const BIN = fileURLToPath(new URL('../../../bin/keymint', import.meta.url))

export interface CliResult { code: number; stdout: string; stderr: string }

/** What `client create --json` and `keys rotate --json` print of the pair they issue. */
export interface Created { id: string; client_id: string; client_secret: string }

/** Runs `bin/keymint` as a user would, in its own process. */
export function keymintProcess(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...TEST_PASSWORD_ENV, ...opts.env }, cwd: opts.cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
    // Standard input as a pipe that ends: what a command reads is `input`, or nothing.
    child.stdin?.end(opts.input ?? '')
  })
}

// Runners (cli-runner.ts): long-lived processes that run commands as bin/keymint does. Two, so a
// file's SQLite and PostgreSQL suites, which run side by side, do not wait for each other.
const RUNNER = fileURLToPath(new URL('./cli-runner.js', import.meta.url))
interface Runner { readonly child: ChildProcess; busy: number; readonly pending: Map<number, (result: RunResult) => void> }
const runners: Runner[] = []
let nextId = 0

function runner(): Runner {
  const idle = runners.find((r) => r.busy === 0)
  if (idle || runners.length >= 2) return idle ?? runners.reduce((a, b) => (a.busy <= b.busy ? a : b))
  const child = fork(RUNNER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const entry: Runner = { child, busy: 0, pending: new Map() }
  child.on('message', (result: RunResult) => {
    entry.pending.get(result.id)?.(result)
    entry.pending.delete(result.id)
  })
  const fail = (why: string) => {
    if (runners.includes(entry)) runners.splice(runners.indexOf(entry), 1)
    for (const [id, settle] of entry.pending) settle({ id, code: 1, stdout: '', stderr: `keymint command runner ${why}` })
    entry.pending.clear()
  }
  child.on('error', (err) => fail(`failed: ${err.message}`))
  child.on('exit', (code) => fail(`exited (${code})`))
  runners.push(entry)
  return entry
}

export interface KeymintOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  /** Standard input: the command runs in a process of its own. */
  readonly input?: string
  /** A process of its own, as a script runs it (for tests about the process itself). */
  readonly process?: boolean
}

/**
 * Runs `keymint` with these arguments as bin/keymint would (a runner, or with `input` on
 * standard input, a process of its own).
 */
export function keymint(args: string[], opts: KeymintOptions = {}): Promise<CliResult> {
  // `serve` keeps running and owns its process's signals: always a process of its own.
  if (opts.process === true || opts.input !== undefined || args[0] === 'serve') return keymintProcess(args, opts)
  const entry = runner()
  const id = nextId++
  entry.busy++
  // An idle runner does not keep the test process alive.
  entry.child.ref()
  entry.child.channel?.ref()
  return new Promise<RunResult>((resolve) => {
    entry.pending.set(id, resolve)
    const request: RunRequest = { id, args, env: { ...process.env, ...TEST_PASSWORD_ENV, ...opts.env }, cwd: opts.cwd ?? process.cwd() }
    entry.child.send(request, (err) => { if (err) entry.child.kill() })
  }).then(({ code, stdout, stderr }) => {
    if (--entry.busy === 0) {
      entry.child.unref()
      entry.child.channel?.unref()
    }
    return { code, stdout, stderr }
  })
}

/** `options` after the command's own, and before a `--` that ends them (what follows it is arguments only). */
export function withOptions(args: readonly string[], options: readonly string[]): string[] {
  const end = args.indexOf('--')
  return end < 0 ? [...args, ...options] : [...args.slice(0, end), ...options, ...args.slice(end)]
}

/** `--json` output: exactly one JSON object on stdout. */
export async function keymintJson<T = Record<string, unknown>>(args: string[], opts: Omit<KeymintOptions, 'input'> = {}): Promise<T> {
  const res = await keymint(withOptions(args, ['--json']), opts)
  if (res.code !== 0) throw new Error(`keymint ${args.join(' ')} failed (${res.code}): ${res.stderr}`)
  const lines = res.stdout.trim().split('\n')
  if (lines.length !== 1) throw new Error(`expected one line of JSON, got:\n${res.stdout}`)
  return JSON.parse(lines[0]!) as T
}

export interface ServeProcess { child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }

/** Starts `keymint serve` and resolves once it prints the URL it listens on. */
export function serve(t: TestContext, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: { ...process.env, ...TEST_PASSWORD_ENV, ...opts.env }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  // Through cleanup: killed before the test's database is dropped and its directory removed.
  cleanup(t, () => { if (child.exitCode === null) child.kill('SIGKILL') })
  return new Promise((resolve, reject) => {
    let listening = false
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      // Looked for until found: a server that logs a lot must not make each chunk cost more.
      if (listening) return
      const match = /keymint listening on (http:\/\/\S+)/.exec(out)
      if (match) {
        listening = true
        resolve({ child, url: match[1]!, output: () => out, exited })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString() })
    void exited.then((code) => reject(new Error(`keymint serve exited (${code}) before listening:\n${out}`)))
  })
}

/**
 * A database of the test's own, a master key, and `keymint` bound to both (`json` adds `--json`);
 * `process`: each command in a process of its own.
 */
export async function cliDatabase(t: TestContext, dialect: Dialect, opts: { process?: boolean } = {}) {
  const dir = tempDir(t)
  const db = await createTestDatabase(t, dialect, dir)
  const env = { KEYMINT_MASTER_KEY: generateMasterKey() }
  const as = { cwd: dir, process: opts.process === true }
  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}, input?: string) => keymint([...args, '--db', db.url], { env: { ...env, ...extraEnv }, ...as, ...(input === undefined ? {} : { input }) })
  const json = <T = Record<string, unknown>>(args: string[]) => keymintJson<T>([...args, '--db', db.url], { env, ...as })
  return { dir, db, env, run, json }
}

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test

/** A real server, an admin caller of its REST API, and the CLI over the same database and master key. */
export async function cliBesideServer(t: TestContext, dialect: Dialect): Promise<{
  s: TestServer; seed: SeededClient; call: ApiCall; dir: string
  run: (args: string[]) => Promise<CliResult>; json: <T = Json>(args: string[]) => Promise<T>
}> {
  const s = await startTestServer(t, dialect)
  const { seed, call } = await adminOf(s)
  const dir = tempDir(t)
  const env = { KEYMINT_MASTER_KEY: s.config.masterKey.value }
  // As soon as a command has committed, the server is asked: what it announced must have arrived.
  const synced = async <T>(result: T): Promise<T> => { await s.server.syncChanges(); return result }
  const run = async (args: string[]) => synced(await keymint([...args, '--db', s.config.database.url], { env, cwd: dir }))
  const json = async <T = Json>(args: string[]) => synced(await keymintJson<T>([...args, '--db', s.config.database.url], { env, cwd: dir }))
  return { s, seed, call, dir, run, json }
}

/** With --json a failure is exactly one JSON object {error, message} on stderr, nothing on stdout. */
export function assertJsonFailure(res: CliResult, error: string, name: string): { error: string; message: string } {
  assert.notEqual(res.code, 0, `${name}: exit code`)
  assert.equal(res.stdout, '', `${name}: nothing on stdout`)
  assert.match(res.stderr, /^\{[^\n]*\}\n$/, `${name}: one JSON line on stderr: ${res.stderr}`)
  const failure = JSON.parse(res.stderr) as { error: string; message: string }
  assert.deepEqual(Object.keys(failure), ['error', 'message'], name)
  assert.equal(failure.error, error, `${name}: ${failure.message}`)
  assert.ok(failure.message.length > 0, name)
  return failure
}
