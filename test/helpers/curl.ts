import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Runs the real curl binary with the given arguments; returns status, headers and body. */
export async function curl(args: string[]): Promise<{ status: number; headers: string; body: string }> {
  const { stdout } = await run('curl', ['-s', '-D', '-', ...args], { maxBuffer: 1 << 20 })
  const split = stdout.indexOf('\r\n\r\n')
  const headers = stdout.slice(0, split)
  const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)?.[1])
  return { status, headers, body: stdout.slice(split + 4) }
}
