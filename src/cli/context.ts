import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { InvalidInput } from '../domain/errors.js'
import { parseDatabaseUrl } from '../store/database-url.js'
import { loadConfig, type Config, type ConfigInput } from '../config.js'
import { describeSetting, SETTINGS } from '../config-schema.js'
import type { Services } from '../services.js'

/** Who audit events name for changes made on the command line (an operator with database access). */
export const CLI_ACTOR = 'cli'

export interface CommonOptions {
  readonly db?: string
  readonly config?: string
  readonly json?: boolean
}

/** Adds the options every command takes (DESIGN §8). */
export function withCommonOptions(command: Command): Command {
  return command
    .option(SETTINGS.db.flag, describeSetting('db'))
    .option('--config <file>', 'JSON file of settings (keys as in serve --help; $KEYMINT_CONFIG)')
    .option('--json', 'print exactly one JSON object on stdout')
}

export function configFrom(options: CommonOptions, extra: ConfigInput = {}): Config {
  return loadConfig({ ...(options.db === undefined ? {} : { db: options.db }), ...(options.config === undefined ? {} : { config: options.config }), ...extra })
}

/**
 * keymint's own default `aud` values as this environment configures them: KEYMINT_ISSUER (else
 * http://HOST:PORT) and KEYMINT_AUDIENCE.
 */
export function defaultAudiences(config: Config): string[] {
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host
  const issuer = config.server.issuer ?? `http://${host}:${config.server.port}`
  return [issuer, ...(config.tokens.audience === undefined ? [] : [config.tokens.audience])]
}

/**
 * Runs `fn` with opened services and always closes them. Only commands that may start a
 * database (`create`) make a missing SQLite file; the others fail without writing anything.
 */
export async function withServices<T>(
  options: CommonOptions,
  fn: (services: Services, config: Config) => Promise<T>,
  opts: { mayCreateDatabase?: boolean } = {},
): Promise<T> {
  const config = configFrom(options)
  const location = parseDatabaseUrl(config.database.url)
  if (!opts.mayCreateDatabase && location.engine === 'sqlite' && location.filename !== ':memory:' && !existsSync(location.filename)) {
    const { DatabaseUnavailable } = await import('../store/database.js')
    throw new DatabaseUnavailable(`database ${location.filename} does not exist; create it with keymint migrate or keymint serve`)
  }
  // The store (Kysely and both drivers) loads only once a command needs the database.
  const { openServices } = await import('../services.js')
  const services = await openServices(config, { poolSize: 2 })
  if (services.createdMasterKeyFile) {
    // On stderr, so --json output stays one object.
    process.stderr.write(`keymint: created master key ${services.createdMasterKeyFile} (mode 0600); back it up: stored keys cannot be read without it\n`)
  }
  try {
    return await fn(services, config)
  } finally {
    await services.close()
  }
}

/** `--json`: one object on stdout. Otherwise the human-readable lines. */
export function emit(options: CommonOptions, json: unknown, human: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(json)}\n` : `${human()}\n`)
}

export const splitList = (value: string): string[] => value.split(',').map((v) => v.trim()).filter((v) => v.length > 0)

/** `true` or `false`, and nothing else, for the flag named. */
export function booleanOption(value: string, flag: string): boolean {
  if (value === 'true') return true
  if (value === 'false') return false
  throw new InvalidInput('KEYMINT_INVALID_INPUT', `${flag} must be true or false, not ${JSON.stringify(value.slice(0, 20))}`)
}
