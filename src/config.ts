import { Ajv } from 'ajv'
import { parseDatabaseUrl, DatabaseUrlError } from './store/database-url.js'
import { SIGNING_ALGS, type SigningAlg } from './crypto/jws.js'
import { DurationError, parseDuration } from './duration.js'

export interface Config {
  readonly server: {
    readonly host: string
    readonly port: number
    /** Explicit issuer; when unset the server uses http://HOST:PORT of its own listener. */
    readonly issuer: string | undefined
    readonly workers: number
    /** Fastify trustProxy: false, true, a hop count, or comma-separated addresses/CIDRs. */
    readonly trustProxy: boolean | number | string
  }
  readonly throttle: {
    readonly windowSeconds: number
    readonly addressLimit: number
    readonly clientLimit: number
  }
  readonly database: { readonly url: string }
  readonly masterKey: {
    readonly value: string | undefined
    readonly file: string | undefined
    /** Keys being rotated out: still accepted to open what they sealed or hashed. */
    readonly previous: readonly string[]
  }
  readonly tokens: {
    readonly headerLifetimeSeconds: number
    readonly oauth2LifetimeSeconds: number
    /** `aud` of tokens issued without a resource; defaults to the issuer. */
    readonly audience: string | undefined
    readonly signingAlg: SigningAlg
    /** How long a rotated-in signing key is published before it signs. */
    readonly keyPublishAheadSeconds: number
  }
  readonly bootstrap: { readonly accountName: string; readonly adminEmail: string }
  readonly log: { readonly level: string }
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined
  readonly lastUsedFlushMs: number
  /** How often an instance picks up token revocations made by other instances. */
  readonly revocationPollMs: number
  /** How often an instance reloads its server keys. */
  readonly keyRefreshMs: number
}

/** Every setting, its flag (when it has one) and its environment variable: the README table. */
export const DEFAULT_DATABASE_URL = 'sqlite:./keymint.db'

export const SETTINGS = [
  { key: 'db', flag: '--db <url>', env: 'KEYMINT_DATABASE_URL', default: 'sqlite:./keymint.db', doc: 'Database: sqlite:<path>, sqlite::memory: or postgres://user@host:port/db' },
  { key: 'host', flag: '--host <host>', env: 'KEYMINT_HOST', default: '127.0.0.1', doc: 'Address to listen on' },
  { key: 'port', flag: '--port <port>', env: 'KEYMINT_PORT', default: '8080', doc: 'Port to listen on; 0 picks a free one' },
  { key: 'issuer', flag: '--issuer <url>', env: 'KEYMINT_ISSUER', default: 'http://HOST:PORT', doc: 'Issuer URL in tokens and metadata; set it behind a proxy' },
  { key: 'workers', flag: '--workers <n>', env: 'KEYMINT_WORKERS', default: '1', doc: 'Worker processes sharing the port' },
  { key: 'masterKey', flag: undefined, env: 'KEYMINT_MASTER_KEY', default: '(file)', doc: 'Master key: 32 random bytes, base64url. Required with PostgreSQL unless a key file is given' },
  { key: 'masterKeyFile', flag: undefined, env: 'KEYMINT_MASTER_KEY_FILE', default: '<db>.master.key', doc: 'Master key file; with SQLite it is created beside the database (mode 0600) if missing' },
  { key: 'previousMasterKeys', flag: undefined, env: 'KEYMINT_PREVIOUS_MASTER_KEYS', default: '', doc: 'Comma-separated master keys being rotated out (see "Rotating the master key")' },
  { key: 'headerLifetime', flag: undefined, env: 'KEYMINT_HEADER_TOKEN_LIFETIME', default: '4h', doc: 'Token lifetime of POST /auth/oauth and /auth/oidc' },
  { key: 'oauth2Lifetime', flag: undefined, env: 'KEYMINT_OAUTH2_TOKEN_LIFETIME', default: '10h', doc: 'Token lifetime of POST /oauth2/token' },
  { key: 'audience', flag: undefined, env: 'KEYMINT_AUDIENCE', default: '(issuer)', doc: 'Default `aud` of access tokens' },
  { key: 'signingAlg', flag: undefined, env: 'KEYMINT_SIGNING_ALG', default: 'RS256', doc: 'Algorithm of the first signing key: RS256, PS256, ES256 or EdDSA' },
  { key: 'adminEmail', flag: undefined, env: 'KEYMINT_BOOTSTRAP_ADMIN_EMAIL', default: 'admin@keymint.local', doc: 'Email of the admin created on an empty database' },
  { key: 'accountName', flag: undefined, env: 'KEYMINT_BOOTSTRAP_ACCOUNT_NAME', default: 'Default', doc: 'Name of the account created on an empty database' },
  { key: 'logLevel', flag: undefined, env: 'KEYMINT_LOG_LEVEL', default: 'info', doc: 'fatal, error, warn, info, debug, trace or silent' },
  { key: 'trustProxy', flag: undefined, env: 'KEYMINT_TRUST_PROXY', default: 'false', doc: 'Trust X-Forwarded-For from: true, a hop count, or addresses/CIDRs (needed behind a load balancer for per-address throttling)' },
  { key: 'throttleWindow', flag: undefined, env: 'KEYMINT_THROTTLE_WINDOW', default: '1m', doc: 'Window in which failed authentications are counted, and the longest refusal' },
  { key: 'throttleAddressLimit', flag: undefined, env: 'KEYMINT_THROTTLE_ADDRESS_LIMIT', default: '30', doc: 'Failed authentications per address and window before 429' },
  { key: 'throttleClientLimit', flag: undefined, env: 'KEYMINT_THROTTLE_CLIENT_LIMIT', default: '10', doc: 'Failed authentications per client_id and window before 429 (not from its known addresses)' },
  { key: 'keyPublishAhead', flag: undefined, env: 'KEYMINT_KEY_PUBLISH_AHEAD', default: '10m', doc: 'How long a rotated-in signing key is in the JWKS before it signs (longer than verifiers cache the JWKS)' },
  { key: 'keyRefresh', flag: undefined, env: 'KEYMINT_KEY_REFRESH', default: '30s', doc: 'How often each instance reloads its keys (picks up rotations and retirements)' },
  { key: 'revocationPoll', flag: undefined, env: 'KEYMINT_REVOCATION_POLL', default: '2s', doc: 'How often each instance picks up token revocations made elsewhere' },
  { key: 'lastUsedFlush', flag: undefined, env: 'KEYMINT_LAST_USED_FLUSH', default: '10s', doc: 'How often key pairs\' last-used times are written' },
  { key: 'metricsToken', flag: undefined, env: 'KEYMINT_METRICS_TOKEN', default: '(none)', doc: 'Bearer token that GET /metrics requires; unset, /metrics is open (keep it off the public network)' },
] as const

export type SettingKey = (typeof SETTINGS)[number]['key']
export type ConfigInput = Partial<Record<SettingKey, string | number>>

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
  }
}

const schema = {
  type: 'object',
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 253 },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    issuer: { type: 'string', pattern: '^https?://[^\\s?#]+$' },
    workers: { type: 'integer', minimum: 1, maximum: 64 },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    signingAlg: { enum: SIGNING_ALGS },
    audience: { type: 'string', minLength: 1, maxLength: 2048 },
    accountName: { type: 'string', minLength: 1, maxLength: 200 },
    adminEmail: { type: 'string', minLength: 3, maxLength: 254 },
    throttleAddressLimit: { type: 'integer', minimum: 1, maximum: 1000000 },
    throttleClientLimit: { type: 'integer', minimum: 1, maximum: 1000000 },
    trustProxy: { type: 'string', pattern: '^(true|false|\\d{1,2}|[0-9a-fA-F.:/, ]+)$' },
    metricsToken: { type: 'string', pattern: '^[\\x21-\\x7e]{16,512}$' },
  },
} as const

const SECRET_SETTINGS: ReadonlySet<string> = new Set(['metricsToken'])

const validate = new Ajv({ allErrors: true, coerceTypes: true }).compile(schema)

/** `<db>.master.key` beside a SQLite file; none for PostgreSQL or an in-memory database. */
export function defaultKeyFile(dbUrl: string): string | undefined {
  const location = parseDatabaseUrl(dbUrl)
  if (location.engine !== 'sqlite' || location.filename === ':memory:') return undefined
  return location.filename.replace(/\.(db|sqlite3?)$/, '') + '.master.key'
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true
  if (value === 'false') return false
  if (/^\d+$/.test(value)) return Number(value)
  return value
}

/**
 * Reads settings from flags (first), then `KEYMINT_*` variables, then defaults; checks them all
 * and reports every problem at once.
 */
export function loadConfig(flags: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string | number | undefined> = {}
  for (const s of SETTINGS) {
    const value = flags[s.key] ?? env[s.env]
    raw[s.key] = value === '' ? undefined : value
  }
  const problems: string[] = []
  const pick = <T>(key: SettingKey, fallback: T): T | string | number => raw[key] ?? fallback
  const data: Record<string, unknown> = {
    host: pick('host', '127.0.0.1'),
    port: pick('port', 8080),
    workers: pick('workers', 1),
    logLevel: pick('logLevel', 'info'),
    signingAlg: pick('signingAlg', 'RS256'),
    accountName: pick('accountName', 'Default'),
    adminEmail: pick('adminEmail', 'admin@keymint.local'),
    throttleAddressLimit: pick('throttleAddressLimit', 30),
    throttleClientLimit: pick('throttleClientLimit', 10),
    trustProxy: String(pick('trustProxy', 'false')),
  }
  if (raw.issuer !== undefined) data.issuer = String(raw.issuer).replace(/\/+$/, '')
  if (raw.audience !== undefined) data.audience = raw.audience
  if (raw.metricsToken !== undefined) data.metricsToken = String(raw.metricsToken)
  if (!validate(data)) {
    for (const e of validate.errors ?? []) {
      const key = e.instancePath.slice(1)
      const setting = SETTINGS.find((s) => s.key === key)
      const name = setting ? (setting.flag?.split(' ')[0] ?? setting.env) : key
      // A secret is never echoed, not even when it is malformed.
      if (SECRET_SETTINGS.has(key)) problems.push(`${name}: must be 16 to 512 printable characters without spaces`)
      else problems.push(`${name}: ${e.message ?? 'invalid'} (got ${JSON.stringify(raw[key] ?? data[key])})`)
    }
  }
  const duration = (key: SettingKey, fallback: string, what: string): number => {
    try {
      return parseDuration(String(pick(key, fallback)), what)
    } catch (err) {
      if (err instanceof DurationError) problems.push(err.message)
      return 0
    }
  }
  const headerLifetimeSeconds = duration('headerLifetime', '4h', 'KEYMINT_HEADER_TOKEN_LIFETIME')
  const oauth2LifetimeSeconds = duration('oauth2Lifetime', '10h', 'KEYMINT_OAUTH2_TOKEN_LIFETIME')
  const lastUsedFlush = duration('lastUsedFlush', '10s', 'KEYMINT_LAST_USED_FLUSH')
  const keyPublishAhead = duration('keyPublishAhead', '10m', 'KEYMINT_KEY_PUBLISH_AHEAD')
  const keyRefresh = duration('keyRefresh', '30s', 'KEYMINT_KEY_REFRESH')
  const revocationPoll = duration('revocationPoll', '2s', 'KEYMINT_REVOCATION_POLL')
  const throttleWindow = duration('throttleWindow', '1m', 'KEYMINT_THROTTLE_WINDOW')
  if (throttleWindow === 0 && raw.throttleWindow !== undefined) problems.push('KEYMINT_THROTTLE_WINDOW: must be at least 1s')
  for (const [name, s] of [['KEYMINT_HEADER_TOKEN_LIFETIME', headerLifetimeSeconds], ['KEYMINT_OAUTH2_TOKEN_LIFETIME', oauth2LifetimeSeconds]] as const) {
    if (s !== 0 && (s < 60 || s > 7 * 86400)) problems.push(`${name}: must be between 1m and 7d`)
  }
  const dbUrl = String(pick('db', DEFAULT_DATABASE_URL))
  let keyFile = raw.masterKeyFile === undefined ? undefined : String(raw.masterKeyFile)
  try {
    keyFile ??= defaultKeyFile(dbUrl)
  } catch (err) {
    if (err instanceof DatabaseUrlError) problems.push(`--db: ${err.message}`)
    else throw err
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return Object.freeze({
    server: Object.freeze({
      host: data.host as string,
      port: data.port as number,
      issuer: data.issuer as string | undefined,
      workers: data.workers as number,
      trustProxy: parseTrustProxy(data.trustProxy as string),
    }),
    throttle: Object.freeze({
      windowSeconds: throttleWindow || 60,
      addressLimit: data.throttleAddressLimit as number,
      clientLimit: data.throttleClientLimit as number,
    }),
    database: Object.freeze({ url: dbUrl }),
    masterKey: Object.freeze({
      value: raw.masterKey === undefined ? undefined : String(raw.masterKey),
      file: keyFile,
      previous: raw.previousMasterKeys === undefined ? [] : String(raw.previousMasterKeys).split(',').map((k) => k.trim()).filter(Boolean),
    }),
    tokens: Object.freeze({
      headerLifetimeSeconds,
      oauth2LifetimeSeconds,
      audience: data.audience as string | undefined,
      signingAlg: data.signingAlg as SigningAlg,
      keyPublishAheadSeconds: keyPublishAhead,
    }),
    bootstrap: Object.freeze({ accountName: data.accountName as string, adminEmail: data.adminEmail as string }),
    log: Object.freeze({ level: data.logLevel as string }),
    metricsToken: data.metricsToken as string | undefined,
    lastUsedFlushMs: lastUsedFlush * 1000 || 10_000,
    revocationPollMs: revocationPoll * 1000 || 2000,
    keyRefreshMs: keyRefresh * 1000 || 30_000,
  })
}
