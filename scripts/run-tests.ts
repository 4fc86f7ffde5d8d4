// `npm test`: node --test on the compiled test files, and only those. Node 20 takes directories
// but then runs every .js file under a folder named test as a test file (helpers and fakes too),
// and it has no glob patterns before Node 21. The files are found from their sources, so a test
// file deleted or renamed since an earlier build is not run from a stale dist/.
// Arguments: node options (--test-name-pattern=…, with =) are passed on; any other argument is a
// test file to run instead of all of them.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))

function testFiles(): string[] {
  return ['src', 'test']
    .flatMap((dir) => readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file)))
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join('dist', file.replace(/\.ts$/, '.js')))
    .sort()
}

const args = process.argv.slice(2)
const options = args.filter((a) => a.startsWith('-'))
const named = args.filter((a) => !a.startsWith('-')).map((a) => resolve(a))
const files = named.length > 0 ? named : testFiles()

// Four files at a time: much of a test file's time is spent waiting on PostgreSQL, on the CLI
// processes it starts and on timers, so two at a time left a 2-core machine half idle.
// A --test-concurrency given here wins.
const result = spawnSync(process.execPath, [
  '--test', '--test-concurrency=4', '--test-timeout=1800000', ...options, ...files,
], { cwd: root, stdio: 'inherit' })
if (result.error) throw result.error
process.exitCode = result.status ?? 1
if (result.signal) process.kill(process.pid, result.signal)
