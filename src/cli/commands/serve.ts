import cluster from 'node:cluster'
import { relative, sep } from 'node:path'
import type { Command } from 'commander'
import { DEFAULT_DATABASE_URL, defaultKeyFile, type Config } from '../../config.js'
import { redactDatabaseUrl } from '../../store/database-url.js'
import type { Bootstrapped } from '../../server.js'
import { describeEnvironment, describeSetting, SETTINGS } from '../../config-schema.js'
import { configFrom, type CommonOptions } from '../context.js'

interface ServeOptions extends CommonOptions {
  host?: string
  port?: string
  issuer?: string
  workers?: string
}

/** How this CLI was invoked, so printed commands can be pasted as they are. */
function invocation(): string {
  const script = process.argv[1]
  if (!script) return 'keymint'
  const rel = relative(process.cwd(), script)
  if (rel.startsWith('..') || rel.includes('node_modules')) return 'keymint'
  return rel.includes(sep) ? rel : `.${sep}${rel}`
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * What the printed `client create` needs to find this server's database and master key from
 * another shell: `--db` unless it is the default, a key file not at its default place, and the
 * variables it cannot be given on the command line. Never a password or the master key.
 */
function firstClientCommand(dbFlag: string | undefined, config: Config, accountId: string): { command: string; needs: string[] } {
  const url = config.database.url
  const redacted = redactDatabaseUrl(url)
  const needs: string[] = []
  let db = ''
  // A URL from the environment with a password stays there: a redacted one would override it.
  if (dbFlag !== undefined || (url !== DEFAULT_DATABASE_URL && redacted === url)) db = ` --db ${shellQuote(redacted)}`
  else if (url !== DEFAULT_DATABASE_URL) needs.push('KEYMINT_DATABASE_URL')
  if (config.masterKey.value !== undefined) needs.push('KEYMINT_MASTER_KEY')
  const keyFile = config.masterKey.value === undefined && config.masterKey.file !== defaultKeyFile(url) ? config.masterKey.file : undefined
  const env = keyFile === undefined ? '' : `KEYMINT_MASTER_KEY_FILE=${shellQuote(keyFile)} `
  return { command: `${env}${invocation()} client create${db} --account ${accountId} --name first-integration --level subscription`, needs }
}

/** Where the dashboard is: the issuer, or the address this server is about to listen on. */
function dashboardUrl(config: Config): string {
  if (config.server.issuer !== undefined) return `${config.server.issuer}/`
  if (config.server.port === 0) return 'the address on the "listening" line below'
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host
  return `http://${host}:${config.server.port}/`
}

function printWelcome(dbFlag: string | undefined, config: Config, boot: Bootstrapped | undefined, keyFile: string | undefined): void {
  const lines: string[] = []
  if (keyFile) lines.push(`keymint: created master key ${keyFile} (mode 0600); back it up: stored keys cannot be read without it`)
  if (boot) {
    const first = firstClientCommand(dbFlag, config, boot.account.id)
    lines.push(
      `keymint: new database: created enterprise account ${JSON.stringify(boot.account.name)} and admin ${boot.admin.email}`,
      `  account id:    ${boot.account.id}`,
      `  admin user id: ${boot.admin.id}`,
      first.needs.length === 0
        ? 'Create a first key pair with:'
        : `Create a first key pair with the same ${first.needs.join(' and ')} as this server set in that shell:`,
      `  ${first.command}`,
      `Sign in to the dashboard at ${dashboardUrl(config)} as ${boot.admin.email} with this one-time password (shown only now; you choose a new one at the first sign-in):`,
      `  ${boot.oneTimePassword}`,
    )
  }
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`)
}

// The server (Fastify, the routes, prom-client, pino) is loaded only by `serve`: the other
// commands start without it.
const loadServer = () => import('../../server.js')

/**
 * Exits once `server` has closed, or after KEYMINT_SHUTDOWN_TIMEOUT however far it got: a stop
 * must not wait for ever on a database that has stopped answering.
 */
function stopWithin(config: Config, server: { close(): Promise<void> }): void {
  setTimeout(() => {
    process.stderr.write(`keymint: the stop did not finish within ${config.shutdownTimeoutMs / 1000} s (KEYMINT_SHUTDOWN_TIMEOUT); exiting without it: token counts and last uses not yet written are lost\n`)
    process.exit(1)
  }, config.shutdownTimeoutMs)
  server.close().then(() => process.exit(0), (err: unknown) => {
    process.stderr.write(`keymint: shutdown failed: ${(err as Error).message}\n`)
    process.exit(1)
  })
}

async function runSingle(config: Config): Promise<void> {
  const { startServer } = await loadServer()
  const server = await startServer(config)
  const stop = (): void => stopWithin(config, server)
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  // Printed only once a SIGTERM would be handled: scripts may stop the server right after this line.
  process.stdout.write(`keymint listening on ${server.url}\n`)
}

/** `--workers N`: N processes share the listening socket (node:cluster round-robin). */
async function runPrimary(config: Config): Promise<void> {
  let listening = 0
  let stopping = false
  let failed = false
  // The signal itself: worker.kill() would first wait for the worker's open connections to end,
  // and a request held by a database that does not answer would hold the worker's stop too.
  const signalWorkers = (): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM')
  }
  const { serveClusterMetrics } = await import('../../runtime/metrics.js')
  serveClusterMetrics()
  for (let i = 0; i < config.server.workers; i++) cluster.fork()
  cluster.on('message', (_worker, message: { type?: string; url?: string }) => {
    if (message.type === 'listening' && ++listening === config.server.workers) {
      process.stdout.write(`keymint listening on ${message.url} (${config.server.workers} workers)\n`)
    }
  })
  cluster.on('exit', (worker, code) => {
    if (code !== 0) failed = true
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0)
      return
    }
    process.stderr.write(`keymint: worker ${worker.process.pid} exited with ${code}; stopping\n`)
    stopping = true
    signalWorkers()
  })
  const stop = (): void => {
    stopping = true
    signalWorkers()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

async function runWorker(config: Config): Promise<void> {
  const { startServer } = await loadServer()
  const server = await startServer(config)
  process.once('SIGTERM', () => stopWithin(config, server))
  // The primary forwards Ctrl-C as SIGTERM; ignore the terminal's own SIGINT here.
  process.on('SIGINT', () => {})
  process.send?.({ type: 'listening', url: server.url })
}

export function registerServeCommand(program: Command): void {
  program.command('serve').description('run the authorization server')
    .option(SETTINGS.db.flag, describeSetting('db'))
    .option('--config <file>', 'JSON file of settings, keys as below ($KEYMINT_CONFIG)')
    .option(SETTINGS.host.flag, describeSetting('host'))
    .option(SETTINGS.port.flag, describeSetting('port'))
    .option(SETTINGS.issuer.flag, describeSetting('issuer'))
    .option(SETTINGS.workers.flag, describeSetting('workers'))
    .addHelpText('after', `\n${describeEnvironment()}\n\nFlags win over variables, variables over the --config file, that over the defaults.`)
    .action(async (opts: ServeOptions) => {
      const config = configFrom(opts, {
        ...(opts.host === undefined ? {} : { host: opts.host }),
        ...(opts.port === undefined ? {} : { port: opts.port }),
        ...(opts.issuer === undefined ? {} : { issuer: opts.issuer }),
        ...(opts.workers === undefined ? {} : { workers: opts.workers }),
      })
      if (cluster.isWorker) return runWorker(config)
      const { prepareInstance } = await loadServer()
      const prepared = await prepareInstance(config)
      printWelcome(opts.db, config, prepared.bootstrapped, prepared.createdMasterKeyFile)
      return config.server.workers > 1 ? runPrimary(config) : runSingle(config)
    })
}
