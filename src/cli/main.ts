import { Command, CommanderError } from 'commander'
import { ConfigError } from '../config.js'
import { MasterKeyError } from '../crypto/master-key.js'
import { UnsealError } from '../crypto/sealing.js'
import { DomainError } from '../domain/errors.js'
import { DatabaseUnavailable } from '../store/database.js'
import { DatabaseUrlError } from '../store/database-url.js'
import { registerAccountCommands } from './commands/account.js'
import { registerApiCommands } from './commands/api.js'
import { registerAuditCommands } from './commands/audit.js'
import { registerClientCommands } from './commands/client.js'
import { registerEncryptionKeyCommands } from './commands/encryption-key.js'
import { registerKeyCommands } from './commands/keys.js'
import { registerMasterKeyCommands } from './commands/master-key.js'
import { registerMigrateCommand } from './commands/migrate.js'
import { registerServeCommand } from './commands/serve.js'
import { registerSigningKeyCommands } from './commands/signing-keys.js'
import { registerUserCommands } from './commands/user.js'

const EXPECTED = [ConfigError, MasterKeyError, UnsealError, DomainError, DatabaseUnavailable, DatabaseUrlError]

/** One clear line on stderr: the message for expected failures, the error name for the rest. */
function describeFailure(err: unknown): string {
  if (err instanceof ConfigError) return err.problems.join('; ')
  if (EXPECTED.some((type) => err instanceof type)) return (err as Error).message
  const listen = err as NodeJS.ErrnoException & { address?: string; port?: number }
  if (listen?.syscall === 'listen' && listen.code === 'EADDRINUSE') {
    return `${listen.address ?? 'the address'}:${listen.port ?? '?'} is already in use; choose another with --port or KEYMINT_PORT`
  }
  if (listen?.syscall === 'listen' && (listen.code === 'EACCES' || listen.code === 'EADDRNOTAVAIL')) {
    return `cannot listen on ${listen.address ?? 'the address'}:${listen.port ?? '?'} (${listen.code}); check --host and --port`
  }
  return `unexpected error: ${(err as Error)?.message ?? String(err)}`
}

export function buildProgram(): Command {
  const program = new Command('keymint')
    .description('keymint: API key pairs and access tokens for machine-to-machine APIs')
    .exitOverride()
    // Usage errors are one line too; `--help` still prints the full text on stdout.
    .configureOutput({ writeErr: (text) => process.stderr.write(`keymint: ${text.trim().split('\n')[0]} (see --help)\n`) })
  registerServeCommand(program)
  registerMigrateCommand(program)
  registerAccountCommands(program)
  registerUserCommands(program)
  registerClientCommands(program)
  registerApiCommands(program)
  registerKeyCommands(program)
  registerSigningKeyCommands(program)
  registerEncryptionKeyCommands(program)
  registerAuditCommands(program)
  registerMasterKeyCommands(program)
  return program
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed its message (or the help text).
      process.exitCode = err.exitCode === 0 ? 0 : 2
      return
    }
    process.stderr.write(`keymint: error: ${describeFailure(err).replace(/\s*\n\s*/g, ' ')}\n`)
    process.exitCode = 1
  }
}
