import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

/** Every child still running, so an interrupted benchmark can stop them all. */
const live = new Set<ChildProcess>()

export function track(child: ChildProcess): ChildProcess {
  live.add(child)
  child.once('exit', () => live.delete(child))
  child.once('error', () => live.delete(child))
  return child
}

/** SIGKILLs whatever is left; used on failure and on Ctrl-C. */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  live.clear()
}

export interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to completion, capturing its output (or passing it through with `inherit`). */
export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; inherit?: boolean } = {}): Promise<Finished> {
  const spawnOptions: SpawnOptions = {
    stdio: options.inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    ...(options.env === undefined ? {} : { env: options.env }),
  }
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, args, spawnOptions))
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Like `run`, but a non-zero exit is an error that carries the command's output. */
export async function runChecked(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; inherit?: boolean } = {}): Promise<string> {
  const result = await run(command, args, options)
  if (result.code !== 0) {
    const how = result.signal ? `signal ${result.signal}` : `exit code ${result.code}`
    const output = `${result.stdout}${result.stderr}`.trim()
    throw new Error(`${command} ${args.join(' ')} failed with ${how}${output ? `:\n${output}` : ''}`)
  }
  return result.stdout
}

/** True when `name` is on PATH. */
export async function onPath(name: string): Promise<boolean> {
  try {
    return (await run('which', [name])).code === 0
  } catch {
    return false
  }
}
