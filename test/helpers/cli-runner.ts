// A process that runs `keymint` commands one after another, each as `bin/keymint` would run it:
// the same `main`, the environment, working directory and argument list it was given, standard
// input at its end, and what it writes to stdout and stderr captured with its exit code. Loading
// the CLI and its drivers cost a new process a third of a second of CPU, paid some 600 times by
// the suite; here it is paid once per runner. (test/helpers/cli.ts starts these; the tests that
// are about the process itself still start `bin/keymint`.)
import type { main as Main } from '../../src/cli/main.js'

// The modules bin/keymint runs (its bundle, unless the compiled sources are newer): chosen by
// bin/cli-entry.js, found from the compiled test's place in dist/.
const { cliEntry } = await import(new URL('../../../bin/cli-entry.js', import.meta.url).href) as { cliEntry: string }
const { main } = await import(cliEntry) as { main: typeof Main }

export interface RunRequest { id: number; args: string[]; env: NodeJS.ProcessEnv; cwd: string }
export interface RunResult { id: number; code: number; stdout: string; stderr: string }

type Write = typeof process.stdout.write

/** A write that appends to `sink` instead of the stream, calling back as a stream would. */
function capture(sink: (text: string) => void): Write {
  return ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
    sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
    const done = typeof encoding === 'function' ? encoding : callback
    if (typeof done === 'function') process.nextTick(done as () => void)
    return true
  }) as Write
}

async function run(request: RunRequest): Promise<RunResult> {
  let stdout = ''
  let stderr = ''
  const { write: writeOut } = process.stdout
  const { write: writeErr } = process.stderr
  process.stdout.write = capture((text) => { stdout += text })
  process.stderr.write = capture((text) => { stderr += text })
  process.exitCode = undefined
  try {
    for (const name of Object.keys(process.env)) delete process.env[name]
    Object.assign(process.env, request.env)
    process.chdir(request.cwd)
    await main([process.execPath, 'keymint', ...request.args])
  } catch (err) {
    stderr += `${(err as Error).stack ?? String(err)}\n`
    process.exitCode = 1
  } finally {
    process.stdout.write = writeOut
    process.stderr.write = writeErr
  }
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0
  process.exitCode = undefined
  return { id: request.id, code, stdout, stderr }
}

// One command at a time: stdout, stderr, the environment and the directory are the process's own.
let queue = Promise.resolve()
process.on('message', (request: RunRequest) => {
  queue = queue.then(async () => { process.send!(await run(request)) })
})
process.on('disconnect', () => process.exit(0))
