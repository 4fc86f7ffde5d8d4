import { Command, CommanderError } from 'commander'
import { KEYMINT_VERSION } from '../version.js'
import { registerAccountCommands } from './commands/account.js'
import { registerApiCommands } from './commands/api.js'
import { registerAuditCommands } from './commands/audit.js'
import { registerClientCommands } from './commands/client.js'
import { registerClientManagementCommands } from './commands/client-manage.js'
import { registerEncryptionKeyCommands } from './commands/encryption-key.js'
import { registerKeyCommands } from './commands/keys.js'
import { registerMasterKeyCommands } from './commands/master-key.js'
import { registerMigrateCommand } from './commands/migrate.js'
import { registerServeCommand } from './commands/serve.js'
import { registerSigningKeyCommands } from './commands/signing-keys.js'
import { registerUserCommands } from './commands/user.js'

/** `--json` anywhere before `--`: errors then go to stderr as one JSON object, usage errors too. */
function wantsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2)
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).includes('--json')
}

export function buildProgram(opts: { json?: boolean } = {}): Command {
  const program = new Command('keymint')
    .description('keymint: API key pairs and access tokens for machine-to-machine APIs')
    .version(KEYMINT_VERSION, '-V, --version', 'print the version')
    .exitOverride()
    // Usage errors are one line too (with --json, main prints them as JSON); `--help` still prints the full text on stdout.
    .configureOutput({ writeErr: (text) => { if (!opts.json) process.stderr.write(`keymint: ${text.trim().split('\n')[0]} (see --help)\n`) } })
  registerServeCommand(program)
  registerMigrateCommand(program)
  registerAccountCommands(program)
  registerUserCommands(program)
  registerClientManagementCommands(registerClientCommands(program))
  registerApiCommands(program)
  registerKeyCommands(program)
  registerSigningKeyCommands(program)
  registerEncryptionKeyCommands(program)
  registerAuditCommands(program)
  registerMasterKeyCommands(program)
  return program
}

/** Loaded only on failure: telling errors apart needs the classes of every layer, the store's too. */
async function failureText(err: unknown, json: boolean): Promise<string> {
  const { describeFailure, formatFailure } = await import('./failure.js')
  return formatFailure(describeFailure(err), json)
}

export async function main(argv: string[]): Promise<void> {
  const json = wantsJson(argv)
  try {
    await buildProgram({ json }).parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2
      // Without --json Commander has already printed its message (or the help text).
      if (json && err.exitCode !== 0) process.stderr.write(await failureText(err, true))
      return
    }
    process.stderr.write(await failureText(err, json))
    process.exitCode = 1
  }
}
