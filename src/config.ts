import { readFileSync } from 'node:fs'
import { SETTING_KEYS, SETTINGS, settingName, type SettingKey, type SettingSpec } from './config-schema.js'
import type { SigningAlg } from './crypto/jws.js'
import { DurationError, formatDuration, parseDuration } from './duration.js'
import { parseDatabaseUrl, DatabaseUrlError } from './store/database-url.js'


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
  readonly sessions: {
    readonly idleSeconds: number
    readonly absoluteSeconds: number
  }
  /** scrypt's N for new password hashes is 2 to this power. */
  readonly passwordHashCost: number
  readonly signInThrottle: {
    readonly windowSeconds: number
    readonly addressLimit: number
    readonly emailLimit: number
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
  readonly log: {
    readonly level: string
    /** Which requests get a line of their own when they complete. */
    readonly requests: RequestLogMode
  }
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined
  readonly webhooks: { readonly allowLoopback: boolean; readonly pollMs: number; readonly timeoutMs: number }
  /** Development only: trust policies may name loopback http issuers. */
  readonly federation: { readonly allowLoopback: boolean }
  /** RFC 9449 proofs at the token endpoint. */
  readonly dpop: {
    /** Oldest `iat` accepted; a proof's `jti` is remembered this long. */
    readonly proofMaxAgeSeconds: number
    /** How far ahead of the server's clock an `iat` may be. */
    readonly clockSkewSeconds: number
    /** Every proof must carry a server nonce (RFC 9449 §8). */
    readonly nonceRequired: boolean
  }
  readonly lastUsedFlushMs: number
  /** How often an instance looks for key pairs to remind of their expiry. */
  readonly keyExpiryCheckMs: number
  /** How often an instance picks up token revocations made by other instances. */
  readonly revocationPollMs: number
  /** How often an instance reloads its server keys. */
  readonly keyRefreshMs: number
  /** How long cached key pairs keep getting tokens while the database is unreachable; 0: not at all. */
  readonly cacheMaxStaleMs: number
  /** Lookups per second of client ids that turn out not to exist, before such lookups are shed. */
  readonly unknownClientRate: number
  /** How long `serve` may take to stop before it exits without finishing. */
  readonly shutdownTimeoutMs: number
}

export type RequestLogMode = 'all' | 'errors' | 'off'

export const DEFAULT_DATABASE_URL = SETTINGS.db.default

/** Values from flags (or tests), by setting key; `config` names a JSON file of settings. */
export type ConfigInput = Partial<Record<SettingKey, string | number>> & { readonly config?: string }

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
  }
}

type Value = string | number | readonly string[]

/** The JSON configuration file: an object of setting keys, as `SETTINGS` names them. */
function readConfigFile(path: string, problems: string[]): Partial<Record<SettingKey, Value>> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    problems.push(`--config ${path}: ${code ? `cannot read it (${code})` : 'not valid JSON'}`)
    return {}
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`--config ${path}: must be a JSON object of settings, e.g. {"port": 8080}`)
    return {}
  }
  const values: Partial<Record<SettingKey, Value>> = {}
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in SETTINGS)) {
      problems.push(`--config ${path}: unknown setting ${JSON.stringify(key.slice(0, 64))} (known: ${SETTING_KEYS.join(', ')})`)
    } else if (typeof value === 'string' || typeof value === 'number' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))) {
      values[key as SettingKey] = value as Value
    } else {
      problems.push(`--config ${path}: ${key} must be a string or a number`)
    }
  }
  return values
}

/** Reads one setting's value as its kind says; a problem names the setting, never a secret. */
function readSetting(key: SettingKey, name: string, value: Value, problems: string[]): string | number | string[] | undefined {
  const spec: SettingSpec = SETTINGS[key]
  const shown = spec.secret ? '' : ` (got ${JSON.stringify(Array.isArray(value) ? value : String(value).slice(0, 100))})`
  const fail = (why: string): undefined => { problems.push(`${name}: ${why}${shown}`); return undefined }
  const inBounds = (n: number, unit: (n: number) => string): boolean =>
    (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max)
      ? true
      : (fail(`must be between ${unit(spec.min ?? 0)} and ${unit(spec.max ?? Number.MAX_SAFE_INTEGER)}`), false)
  switch (spec.kind) {
    case 'list':
      return (Array.isArray(value) ? value : String(value).split(',')).map((v) => v.trim()).filter(Boolean)
    case 'integer': {
      const text = String(value).trim()
      if (!/^\d{1,15}$/.test(text)) return fail('must be a whole number')
      const n = Number(text)
      return inBounds(n, String) ? n : undefined
    }
    case 'duration': {
      let seconds: number
      try {
        seconds = parseDuration(String(value), name)
      } catch (err) {
        if (err instanceof DurationError) return fail('must be a number with s, m, h or d (e.g. 10m, 4h)')
        throw err
      }
      return inBounds(seconds, formatDuration) ? seconds : undefined
    }
    case 'string': {
      const text = String(value).trim()
      if (spec.values && !spec.values.includes(text)) return fail(`must be one of ${spec.values.join(', ')}`)
      if (spec.pattern && !new RegExp(spec.pattern, 'u').test(text)) return fail(spec.rule ?? 'is malformed')
      return text
    }
  }
}

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
 * Reads every setting from flags (first), then `KEYMINT_*` variables, then the configuration
 * file (`--config` or `KEYMINT_CONFIG`), then the defaults declared in SETTINGS; checks them all
 * and reports every problem at once.
 */
export function loadConfig(flags: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = []
  const filePath = flags.config ?? (env.KEYMINT_CONFIG || undefined)
  const file = filePath === undefined ? {} : readConfigFile(filePath, problems)
  const values: Partial<Record<SettingKey, string | number | string[]>> = {}
  for (const key of SETTING_KEYS) {
    const spec: SettingSpec = SETTINGS[key]
    // The first source that sets it, named as the person set it.
    const source = ([[flags[key], settingName(key)], [env[spec.env], spec.env], [file[key], `${key} in ${filePath}`], [spec.default, `${key} (default)`]] as const)
      .find(([v]) => v !== undefined && v !== '')
    if (!source) continue
    const [value, name] = source as [Value, string]
    const read = readSetting(key, name, key === 'issuer' ? String(value).replace(/\/+$/, '') : value, problems)
    if (read !== undefined) values[key] = read
  }
  const dbUrl = String(values.db ?? DEFAULT_DATABASE_URL)
  let keyFile = values.masterKeyFile as string | undefined
  try {
    keyFile ??= defaultKeyFile(dbUrl)
  } catch (err) {
    if (err instanceof DatabaseUrlError) problems.push(`--db: ${err.message}`)
    else throw err
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return configOf(values as Record<SettingKey, never>, dbUrl, keyFile)
}

/** The configuration's shape from settings already read and bounded (defaults fill what nobody set). */
function configOf(v: Record<SettingKey, never>, dbUrl: string, keyFile: string | undefined): Config {
  return Object.freeze({
    server: Object.freeze({
      host: v.host as string,
      port: v.port as number,
      issuer: v.issuer as string | undefined,
      workers: v.workers as number,
      trustProxy: parseTrustProxy(v.trustProxy as string),
    }),
    throttle: Object.freeze({
      windowSeconds: v.throttleWindow as number,
      addressLimit: v.throttleAddressLimit as number,
      clientLimit: v.throttleClientLimit as number,
    }),
    sessions: Object.freeze({ idleSeconds: v.sessionIdle as number, absoluteSeconds: v.sessionLifetime as number }),
    passwordHashCost: v.passwordHashCost as number,
    signInThrottle: Object.freeze({
      windowSeconds: v.signInWindow as number,
      addressLimit: v.signInAddressLimit as number,
      emailLimit: v.signInEmailLimit as number,
    }),
    database: Object.freeze({ url: dbUrl }),
    masterKey: Object.freeze({
      value: v.masterKey as string | undefined,
      file: keyFile,
      previous: Object.freeze((v.previousMasterKeys as string[] | undefined) ?? []),
    }),
    tokens: Object.freeze({
      headerLifetimeSeconds: v.headerLifetime as number,
      oauth2LifetimeSeconds: v.oauth2Lifetime as number,
      audience: v.audience as string | undefined,
      signingAlg: v.signingAlg as SigningAlg,
      keyPublishAheadSeconds: v.keyPublishAhead as number,
    }),
    bootstrap: Object.freeze({ accountName: v.accountName as string, adminEmail: v.adminEmail as string }),
    log: Object.freeze({ level: v.logLevel as string, requests: v.requestLog as RequestLogMode }),
    metricsToken: v.metricsToken as string | undefined,
    webhooks: Object.freeze({ allowLoopback: v.webhooksAllowLoopback === 'true', pollMs: (v.webhookPoll as number) * 1000, timeoutMs: (v.webhookTimeout as number) * 1000 }),
    federation: Object.freeze({ allowLoopback: v.federationAllowLoopback === 'true' }),
    dpop: Object.freeze({
      proofMaxAgeSeconds: v.dpopProofMaxAge as number,
      clockSkewSeconds: v.dpopClockSkew as number,
      nonceRequired: v.dpopNonceRequired === 'true',
    }),
    lastUsedFlushMs: (v.lastUsedFlush as number) * 1000,
    keyExpiryCheckMs: (v.keyExpiryCheck as number) * 1000,
    revocationPollMs: (v.revocationPoll as number) * 1000,
    keyRefreshMs: (v.keyRefresh as number) * 1000,
    cacheMaxStaleMs: (v.cacheMaxStale as number) * 1000,
    unknownClientRate: v.unknownClientRate as number,
    shutdownTimeoutMs: (v.shutdownTimeout as number) * 1000,
  })
}
