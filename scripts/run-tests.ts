// `npm test`: node --test on the compiled test files, and only those. Node 20 takes directories
// but then runs every .js file under a folder named test as a test file (helpers and fakes too),
// and it has no glob patterns before Node 21. The files are found from their sources, so a test
// file deleted or renamed since an earlier build is not run from a stale dist/.
// Arguments: node options (--test-name-pattern=…, with =) are passed on; any other argument is a
// test file to run instead of all of them (each in a process of its own, as node --test does).
import { spawnSync } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

function testFiles(): string[] {
  return ['src', 'test']
    .flatMap((dir) => readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file)))
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join('dist', file.replace(/\.ts$/, '.js')))
    .sort()
}

// Importing keymint's modules (Fastify, Kysely, Ajv, TypeBox: some thousand files) costs a
// process more CPU than most test files' own tests, so the whole suite runs its files a few to a
// process: each shard is a module importing its files, and node --test runs shards as it would
// files. A shard's files run one after another; shards run side by side. Shards are made about
// equal by the size of their files' sources and start largest first, so that the last to finish
// is small. The dashboard's end-to-end files share two shards, started before the rest: a process
// starts one browser for its files.
const SHARD_WEIGHT = 60_000
const BROWSER_SHARDS = 2

function shardsOf(files: string[]): string[][] {
  const weight = (file: string) => statSync(join(root, file.replace(/^dist\//, '').replace(/\.js$/, '.ts'))).size
  const weighed = files.map((file) => ({ file, weight: weight(file) })).sort((a, b) => b.weight - a.weight)
  const inBrowser = (file: string) => file.startsWith(join('dist', 'test', 'e2e'))
  const browserFiles = weighed.filter((f) => inBrowser(f.file))
  const others = weighed.filter((f) => !inBrowser(f.file))
  const total = others.reduce((sum, f) => sum + f.weight, 0)
  // Browser shards first: they take the longest, waiting on Chromium.
  return [...binned(browserFiles, BROWSER_SHARDS), ...binned(others, Math.ceil(total / SHARD_WEIGHT)).sort((a, b) => b.weight - a.weight)]
    .map((b) => b.files)
}

/** Files into `count` bins of about equal weight, each file into the lightest bin so far (heaviest first). */
function binned(files: { file: string; weight: number }[], count: number): { files: string[]; weight: number }[] {
  const bins = Array.from({ length: Math.max(1, count) }, () => ({ files: [] as string[], weight: 0 }))
  for (const f of files) {
    const lightest = bins.reduce((min, b) => (b.weight < min.weight ? b : min))
    lightest.files.push(f.file)
    lightest.weight += f.weight
  }
  return bins.filter((b) => b.files.length > 0)
}

/**
 * The environment of the test processes and of every process they start (servers, commands,
 * npm). A larger young generation: the suite's processes make many short-lived objects, and
 * with Node's default 16 MiB semi-spaces they spent a tenth of their time collecting them.
 * Temporary files in memory when the machine has a roomy tmpfs: every SQLite test database is
 * a file written, synced and removed, and with them on disk the whole suite cost the machine
 * ~12 % more CPU. A TMPDIR set by the caller is kept, as are the caller's NODE_OPTIONS.
 */
function testEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  env.NODE_OPTIONS = [env.NODE_OPTIONS, '--max-semi-space-size=32'].filter(Boolean).join(' ')
  if (env.TMPDIR === undefined && roomyTmpfs('/dev/shm')) env.TMPDIR = '/dev/shm'
  return env
}

const TMPFS_MAGIC = 0x01021994

/** True when `dir` is a writable tmpfs with at least 4 GiB free (a container's default is 64 MiB). */
function roomyTmpfs(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK)
    const { type, bavail, bsize } = statfsSync(dir)
    return type === TMPFS_MAGIC && bavail * bsize >= 4 * 2 ** 30
  } catch {
    return false
  }
}

const args = process.argv.slice(2)
const options = args.filter((a) => a.startsWith('-'))
const named = args.filter((a) => !a.startsWith('-')).map((a) => resolve(a))

let files: string[]
let shardDir: string | undefined
if (named.length > 0) {
  files = named
} else {
  shardDir = mkdtempSync(join(tmpdir(), 'keymint-test-shards-'))
  const dir = shardDir
  files = shardsOf(testFiles()).map((members, i) => {
    const shard = join(dir, `shard-${String(i + 1).padStart(2, '0')}.test.mjs`)
    writeFileSync(shard, members.map((f) => `import ${JSON.stringify(pathToFileURL(join(root, f)).href)}\n`).join(''))
    return shard
  })
}

// Four at a time: much of a file's time is spent waiting on PostgreSQL, on the processes it
// starts and on timers, so two at a time left a 2-core machine half idle.
// A shard takes a few minutes at most: one that hangs is stopped after ten. (Not --test-force-exit:
// a process ends by itself once its tests and their test databases' drops are done.)
// A --test-concurrency given here wins.
const result = spawnSync(process.execPath, [
  '--test', '--test-concurrency=4', '--test-timeout=600000', ...options, ...files,
], { cwd: root, stdio: 'inherit', env: testEnvironment() })
if (shardDir) rmSync(shardDir, { recursive: true, force: true })
if (result.error) throw result.error
process.exitCode = result.status ?? 1
if (result.signal) process.kill(process.pid, result.signal)
