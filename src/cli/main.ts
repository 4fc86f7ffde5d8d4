import { Command, CommanderError } from 'commander'
import { KEYMINT_VERSION } from '../version.js'
import { usageMessage } from './usage-hints.js'

/** `--json` anywhere before `--`: errors then go to stderr as one JSON object, usage errors too. */
function wantsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2)
  const end = args.indexOf('--')
  return (end === -1 ? args : args.slice(0, end)).includes('--json')
}

type Register = (program: Command) => void

/**
 * The top-level commands in the order --help lists them, each loaded only when needed: a run
 * that names one loads that one alone (with what it imports), anything else loads them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  serve: async () => (await import('./commands/serve.js')).registerServeCommand,
  migrate: async () => (await import('./commands/migrate.js')).registerMigrateCommand,
  account: async () => (await import('./commands/account.js')).registerAccountCommands,
  user: async () => (await import('./commands/user.js')).registerUserCommands,
  client: async () => {
    const [{ registerClientCommands }, { registerClientManagementCommands }] = await Promise.all([import('./commands/client.js'), import('./commands/client-manage.js')])
    return (program) => registerClientManagementCommands(registerClientCommands(program))
  },
  api: async () => (await import('./commands/api.js')).registerApiCommands,
  keys: async () => (await import('./commands/keys.js')).registerKeyCommands,
  'signing-keys': async () => (await import('./commands/signing-keys.js')).registerSigningKeyCommands,
  'encryption-key': async () => (await import('./commands/encryption-key.js')).registerEncryptionKeyCommands,
  federation: async () => (await import('./commands/federation.js')).registerFederationCommands,
  audit: async () => (await import('./commands/audit.js')).registerAuditCommands,
  'master-key': async () => (await import('./commands/master-key.js')).registerMasterKeyCommands,
  backup: async () => (await import('./commands/backup.js')).registerBackupCommand,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctorCommand,
}

export async function buildProgram(argv: readonly string[], opts: { json?: boolean } = {}): Promise<Command> {
  const program = new Command('keymint')
    .description('keymint: API key pairs and access tokens for machine-to-machine APIs')
    .version(KEYMINT_VERSION, '-V, --version', 'print the version')
    .exitOverride()
    // Usage errors are one line too (with --json, main prints them as JSON); `--help` still prints the full text on stdout.
    .configureOutput({ writeErr: (text) => { if (!opts.json) process.stderr.write(`keymint: ${usageMessage(text.trim().split('\n')[0] ?? '')} (see --help)\n`) } })
  const named = argv[2]
  const loaders = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]!] : Object.values(COMMANDS)
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program)
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
    await (await buildProgram(argv, { json })).parseAsync(argv)
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
