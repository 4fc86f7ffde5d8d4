import cluster from 'node:cluster'
import { relative, sep } from 'node:path'
import type { Command } from 'commander'
import type { Config } from '../../config.js'
import { serveClusterMetrics } from '../../http/metrics.js'
import { redactDatabaseUrl } from '../../store/database-url.js'
import { prepareInstance, startServer, type Bootstrapped } from '../../server.js'
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

function printWelcome(dbFlag: string | undefined, boot: Bootstrapped | undefined, keyFile: string | undefined): void {
  const lines: string[] = []
  if (keyFile) lines.push(`keymint: created master key ${keyFile} (mode 0600); back it up: stored keys cannot be read without it`)
  if (boot) {
    // The same --db the server got (a URL from the environment is found there again); never a password.
    const db = dbFlag === undefined ? '' : ` --db ${shellQuote(redactDatabaseUrl(dbFlag))}`
    lines.push(
      `keymint: new database: created enterprise account ${JSON.stringify(boot.account.name)} and admin ${boot.admin.email}`,
      `  account id:    ${boot.account.id}`,
      `  admin user id: ${boot.admin.id}`,
      'Create a first key pair with:',
      `  ${invocation()} client create${db} --account ${boot.account.id} --name first-integration --level subscription`,
    )
  }
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`)
}

async function runSingle(config: Config): Promise<void> {
  const server = await startServer(config)
  const stop = (): void => {
    server.close().then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`keymint: shutdown failed: ${(err as Error).message}\n`)
      process.exit(1)
    })
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  // Printed only once a SIGTERM would be handled: scripts may stop the server right after this line.
  process.stdout.write(`keymint listening on ${server.url}\n`)
}

/** `--workers N`: N processes share the listening socket (node:cluster round-robin). */
async function runPrimary(config: Config): Promise<void> {
  let listening = 0
  let stopping = false
  serveClusterMetrics()
  for (let i = 0; i < config.server.workers; i++) cluster.fork()
  cluster.on('message', (_worker, message: { type?: string; url?: string }) => {
    if (message.type === 'listening' && ++listening === config.server.workers) {
      process.stdout.write(`keymint listening on ${message.url} (${config.server.workers} workers)\n`)
    }
  })
  cluster.on('exit', (worker, code) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0)
      return
    }
    process.stderr.write(`keymint: worker ${worker.process.pid} exited with ${code}; stopping\n`)
    stopping = true
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM')
    process.exitCode = 1
  })
  const stop = (): void => {
    stopping = true
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM')
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

async function runWorker(config: Config): Promise<void> {
  const server = await startServer(config)
  process.once('SIGTERM', () => {
    server.close().then(() => process.exit(0), () => process.exit(1))
  })
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
      const prepared = await prepareInstance(config)
      printWelcome(opts.db, prepared.bootstrapped, prepared.createdMasterKeyFile)
      return config.server.workers > 1 ? runPrimary(config) : runSingle(config)
    })
}
