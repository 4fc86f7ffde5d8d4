import { existsSync, statSync } from 'node:fs'
import { sql } from 'kysely'
import type { Config } from '../config.js'
import { createClientSecretService } from '../crypto/client-secrets.js'
import { parseMasterKey, readMasterKeyFile, type MasterKey } from '../crypto/master-key.js'
import { createSealer } from '../crypto/sealing.js'
import { assertMasterKeyOpens, masterKeySource } from '../services.js'
import { openDatabase, type OpenDatabase } from '../store/database.js'
import { parseDatabaseUrl, redactDatabaseUrl } from '../store/database-url.js'
import { MIGRATIONS, pendingMigrations } from '../store/migrate.js'

export type FindingLevel = 'ok' | 'warn' | 'problem'

export interface Finding {
  readonly level: FindingLevel
  readonly check: string
  readonly message: string
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i
// Records may be stamped a little ahead by another instance's clock; beyond this, a clock is wrong.
const CLOCK_TOLERANCE_MS = 60_000

const found = (level: FindingLevel, check: string, message: string): Finding => ({ level, check, message })
const errorText = (err: unknown): string => ((err as Error)?.message ?? String(err)).replace(/\s*\n\s*/g, ' ')
const groupOrOtherMayRead = (path: string): boolean => (statSync(path).mode & 0o077) !== 0
const octal = (path: string): string => (statSync(path).mode & 0o777).toString(8).padStart(4, '0')

/** Checks of what the server will run with; nothing is written, no file created, no migration run. */
export async function examine(config: Config): Promise<Finding[]> {
  const findings: Finding[] = [...settingFindings(config)]
  const location = parseDatabaseUrl(config.database.url)
  const where = redactDatabaseUrl(config.database.url)
  if (location.engine === 'sqlite' && location.filename !== ':memory:') {
    if (!existsSync(location.filename)) return [...findings, found('problem', 'database', `${location.filename} does not exist; keymint serve (or keymint migrate) creates it`)]
    if (groupOrOtherMayRead(location.filename)) findings.push(found('problem', 'database', `${location.filename} is mode ${octal(location.filename)}: others may read secret hashes; chmod 600 it`))
  }
  let database: OpenDatabase
  try {
    database = await openDatabase(config.database.url, { poolSize: 1 })
  } catch (err) {
    return [...findings, found('problem', 'database', errorText(err))]
  }
  try {
    findings.push(found('ok', 'database', `${where} answers`))
    const pending = await pendingMigrations(database)
    const total = Object.keys(MIGRATIONS).length
    if (pending.length === 0) {
      findings.push(found('ok', 'schema', `up to date (${total} migrations)`))
      findings.push(...await masterKeyFindings(config, database))
      findings.push(...await clockFindings(database))
    } else {
      findings.push(...unmigratedFindings(pending, total))
    }
  } finally {
    await database.close()
  }
  return findings
}

const MIGRATE = 'run keymint migrate (keymint serve also migrates as it starts)'

/** A schema behind this build: the checks that read the database would read tables it lacks. */
function unmigratedFindings(pending: readonly string[], total: number): Finding[] {
  const none = pending.length === total
  const why = none
    ? 'not checked: no migration is applied, so the database holds nothing of keymint\'s yet'
    : 'not checked: it reads tables the pending migrations create or change'
  return [
    none
      ? found('problem', 'schema', `no migration applied (${total} pending): the database is new or not keymint's; ${MIGRATE}`)
      : found('problem', 'schema', `${pending.length} of ${total} migrations not applied (${pending.join(', ')}); ${MIGRATE}`),
    found('warn', 'master key', `${why}; run keymint doctor again after migrating`),
    found('warn', 'clock', `${why}; run keymint doctor again after migrating`),
  ]
}

async function masterKeyFindings(config: Config, database: OpenDatabase): Promise<Finding[]> {
  const findings: Finding[] = []
  let source: ReturnType<typeof masterKeySource>
  try {
    source = masterKeySource(config)
  } catch (err) {
    return [found('problem', 'master key', errorText(err))]
  }
  let key: MasterKey
  if ('file' in source) {
    if (!existsSync(source.file)) {
      const keys = await database.db.selectFrom('server_keys').select('kid').limit(1).execute()
      return keys.length === 0
        ? [found('warn', 'master key', `${source.file} does not exist yet; the first keymint serve creates it (back it up then)`)]
        : [found('problem', 'master key', `${source.file} is missing, but the database holds keys sealed with a master key; restore it, or set KEYMINT_MASTER_KEY`)]
    }
    if (groupOrOtherMayRead(source.file)) findings.push(found('problem', 'master key', `${source.file} is mode ${octal(source.file)}: chmod 600 it`))
    try {
      key = readMasterKeyFile(source.file)
    } catch (err) {
      return [...findings, found('problem', 'master key', errorText(err))]
    }
  } else {
    key = source.key
  }
  try {
    const previous = config.masterKey.previous.map((k, i) => parseMasterKey(k, `KEYMINT_PREVIOUS_MASTER_KEYS entry ${i + 1}`))
    const sealer = createSealer(key, previous)
    await assertMasterKeyOpens(database, { sealer, hashKeyIds: createClientSecretService(key, previous).keyIds, source: 'file' in source ? source.file : source.name })
    const keys = await database.db.selectFrom('server_keys').select('kid').execute()
    findings.push(found('ok', 'master key', `opens the ${keys.length} stored server key(s)`))
  } catch (err) {
    findings.push(found('problem', 'master key', errorText(err)))
  }
  return findings
}

/**
 * A clock behind the records this database already holds makes tokens that are not yet valid.
 * A clock ahead needs a clock to compare with: PostgreSQL's `now()`; a SQLite file has none.
 */
async function clockFindings(database: OpenDatabase): Promise<Finding[]> {
  const now = Date.now()
  const latest = await database.db.selectFrom('audit_events').select((eb) => eb.fn.max('created_at').as('at')).executeTakeFirst()
  const at = latest?.at === null || latest?.at === undefined ? undefined : Number(latest.at)
  if (at !== undefined && at - now > CLOCK_TOLERANCE_MS) {
    return [found('problem', 'clock', `this machine's clock is ${Math.round((at - now) / 1000)} s behind the newest audit event (${new Date(at).toISOString()}); fix the time (NTP)`)]
  }
  const records = at === undefined ? 'no audit event yet to compare with' : 'not behind the newest audit event'
  if (database.engine === 'sqlite') {
    return [found('ok', 'clock', `${new Date(now).toISOString()}, ${records}; a clock ahead is not detected: a SQLite database has no clock of its own to compare with`)]
  }
  const result = await sql<{ now: Date }>`select now() as now`.execute(database.db)
  const skew = now - new Date(result.rows[0]!.now).getTime()
  const seconds = Math.round(Math.abs(skew) / 1000)
  const apart = `this machine's clock is ${seconds} s ${skew > 0 ? 'ahead of' : 'behind'} PostgreSQL's`
  if (Math.abs(skew) > CLOCK_TOLERANCE_MS) return [found('problem', 'clock', `${apart}; one of them is wrong: run NTP on both`)]
  if (Math.abs(skew) > CLOCK_TOLERANCE_MS / 2) return [found('warn', 'clock', `${apart}; run NTP on both`)]
  return [found('ok', 'clock', `${new Date(now).toISOString()}, within ${seconds} s of PostgreSQL's, ${records}`)]
}

/** The configuration itself: where it is insecure or surprising. */
function settingFindings(config: Config): Finding[] {
  const findings: Finding[] = [found('ok', 'configuration', 'every setting is valid')]
  const host = config.server.host
  const exposed = !LOOPBACK.test(host)
  const issuer = config.server.issuer
  if (issuer === undefined) {
    findings.push(exposed
      ? found('warn', 'issuer', `KEYMINT_ISSUER is unset while keymint listens on ${host}: set the https URL clients use`)
      : found('ok', 'issuer', `http://${host}:${config.server.port} (loopback; set KEYMINT_ISSUER when clients reach it elsewhere)`))
  } else {
    const url = new URL(issuer)
    if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) {
      findings.push(found('problem', 'issuer', `${issuer} is http outside loopback: tokens, secrets and session cookies would cross the network in clear; use https`))
    } else {
      findings.push(found('ok', 'issuer', issuer))
    }
  }
  if (config.server.trustProxy === true) findings.push(found('warn', 'trust proxy', 'KEYMINT_TRUST_PROXY=true believes X-Forwarded-For from anyone who reaches keymint; give the hop count or the proxies\' addresses'))
  if (config.metricsToken === undefined && exposed) findings.push(found('warn', 'metrics', `/metrics is open to anyone who reaches ${host}; set KEYMINT_METRICS_TOKEN`))
  if (['debug', 'trace'].includes(config.log.level)) findings.push(found('warn', 'log level', `${config.log.level} logs every detail; use info in production`))
  if (config.webhooks.allowLoopback) findings.push(found('warn', 'webhooks', 'KEYMINT_WEBHOOKS_ALLOW_LOOPBACK=true is for development only: webhooks may then go to plain-http loopback URLs; unset it in production'))
  if (config.federation.allowLoopback) findings.push(found('warn', 'federation', 'KEYMINT_FEDERATION_ALLOW_LOOPBACK=true is for development only: trust policies may then name plain-http loopback issuers, whose keys are fetched unprotected; unset it in production'))
  if (config.masterKey.previous.length > 0) findings.push(found('warn', 'master key', 'KEYMINT_PREVIOUS_MASTER_KEYS is set: finish the rotation (keymint master-key status) and drop it'))
  return findings
}
