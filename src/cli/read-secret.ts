import { createInterface } from 'node:readline'
import { InvalidInput } from '../domain/errors.js'

// More than any password the policy accepts; the rest of a huge stdin is not read into memory.
const MAX_BYTES = 4096

/**
 * Reads a secret typed by a person: prompted without echo on a terminal, else the first line of
 * standard input (`echo "$PASSWORD" | keymint user set-password …`). Never an argument: those
 * end up in shell history and process lists.
 */
export async function readSecret(prompt: string): Promise<string> {
  if (process.stdin.isTTY) return promptHidden(prompt)
  let text = ''
  for await (const chunk of process.stdin) {
    text += String(chunk)
    if (text.length > MAX_BYTES) break
  }
  const line = text.split(/\r?\n/, 1)[0] ?? ''
  if (line.length === 0) throw new InvalidInput('KEYMINT_INVALID_INPUT', 'no password on standard input')
  return line
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    // Echo nothing of what is typed.
    ;(rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(prompt)) process.stderr.write(prompt)
    }
    rl.question(prompt, (answer) => {
      rl.close()
      process.stderr.write('\n')
      resolve(answer)
    })
  })
}
