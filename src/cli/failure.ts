import { CommanderError } from 'commander'
import { ConfigError } from '../config.js'
import { MasterKeyError } from '../crypto/master-key.js'
import { UnsealError } from '../crypto/sealing.js'
import { DomainError } from '../domain/errors.js'
import { BackupRefused } from '../store/backup.js'
import { DatabaseUnavailable } from '../store/database.js'
import { DatabaseUrlError } from '../store/database-url.js'
import { usageMessage } from './usage-hints.js'

/**
 * A failed command as scripts see it with `--json`: a stable code to branch on (a domain
 * error's `KEYMINT_…` code, or one of the snake_case codes below) and one line for people.
 */
export interface Failure {
  readonly error: string
  readonly message: string
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim()

function listenFailure(err: unknown): Failure | undefined {
  const listen = err as NodeJS.ErrnoException & { address?: string; port?: number } | undefined
  if (listen?.syscall !== 'listen') return undefined
  const where = `${listen.address ?? 'the address'}:${listen.port ?? '?'}`
  if (listen.code === 'EADDRINUSE') {
    return { error: 'address_unavailable', message: `${where} is already in use; choose another with --port or KEYMINT_PORT` }
  }
  if (listen.code === 'EACCES' || listen.code === 'EADDRNOTAVAIL') {
    return { error: 'address_unavailable', message: `cannot listen on ${where} (${listen.code}); check --host and --port` }
  }
  return undefined
}

/** The code and message of any error a command can end with; messages of these types never carry a secret. */
export function describeFailure(err: unknown): Failure {
  if (err instanceof DomainError) return { error: err.code, message: oneLine(err.message) }
  if (err instanceof ConfigError) return { error: 'invalid_configuration', message: oneLine(err.problems.join('; ')) }
  if (err instanceof DatabaseUrlError) return { error: 'invalid_configuration', message: oneLine(err.message) }
  if (err instanceof MasterKeyError || err instanceof UnsealError) return { error: 'invalid_master_key', message: oneLine(err.message) }
  if (err instanceof DatabaseUnavailable) return { error: 'database_unavailable', message: oneLine(err.message) }
  if (err instanceof BackupRefused) return { error: 'backup_refused', message: oneLine(err.message) }
  if (err instanceof CommanderError) {
    // A command group without its subcommand: Commander printed the help text, its message says only that.
    const message = err.code === 'commander.help' ? 'a command is required (see --help)' : usageMessage(err.message.replace(/^error: /, ''))
    return { error: 'invalid_usage', message: oneLine(message) }
  }
  return listenFailure(err) ?? { error: 'internal_error', message: oneLine(`unexpected error: ${(err as Error)?.message ?? String(err)}`) }
}

/** What goes to stderr: one JSON object with `--json`, else today's one line. */
export function formatFailure(failure: Failure, json: boolean): string {
  return json ? `${JSON.stringify(failure)}\n` : `keymint: error: ${failure.message}\n`
}
