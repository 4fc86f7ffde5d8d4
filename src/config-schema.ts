import { SIGNING_ALGS } from './crypto/jws.js'

/** How a setting's text is read. Durations are seconds after parsing (`90`, `10m`, `4h`, `7d`). */
export type SettingKind = 'string' | 'integer' | 'duration' | 'list'

export interface SettingSpec {
  /** Command-line flag of `serve` (and of every command for `db`), when it has one. */
  readonly flag?: string
  readonly env: string
  readonly kind: SettingKind
  /** Used when nothing sets it; absent means "unset" (see `defaultDoc`). */
  readonly default?: string | number
  /** How the default reads in docs when it is computed or absent. */
  readonly defaultDoc?: string
  /** Bounds: integers as they are, durations in seconds. */
  readonly min?: number
  readonly max?: number
  readonly values?: readonly string[]
  readonly pattern?: string
  /** What `pattern` asks for, in words, for the error. */
  readonly rule?: string
  /** Never echoed in an error, not even when malformed. */
  readonly secret?: boolean
  readonly doc: string
}

const DAY = 86400

/**
 * Every setting, declared once: flag, variable, kind, default, bounds and one line of doc.
 * `loadConfig`, `serve --help` and the README's settings table are all made from this.
 */
export const SETTINGS = {
  db: { flag: '--db <url>', env: 'KEYMINT_DATABASE_URL', kind: 'string', default: 'sqlite:./keymint.db', doc: '`sqlite:<path>`, `sqlite::memory:` or `postgres://user@host:port/db`' },
  host: { flag: '--host <host>', env: 'KEYMINT_HOST', kind: 'string', default: '127.0.0.1', pattern: '^\\S{1,253}$', rule: 'must be a host name or address', doc: 'address to listen on' },
  port: { flag: '--port <port>', env: 'KEYMINT_PORT', kind: 'integer', default: 8080, min: 0, max: 65535, doc: 'port; `0` picks a free one' },
  issuer: { flag: '--issuer <url>', env: 'KEYMINT_ISSUER', kind: 'string', defaultDoc: '`http://HOST:PORT`', pattern: '^https?://[^\\s?#]+$', rule: 'must be an http(s) URL without query or fragment', doc: 'issuer in tokens and metadata; set it behind a proxy' },
  workers: { flag: '--workers <n>', env: 'KEYMINT_WORKERS', kind: 'integer', default: 1, min: 1, max: 64, doc: 'processes sharing the port' },
  masterKey: { env: 'KEYMINT_MASTER_KEY', kind: 'string', defaultDoc: '(file)', secret: true, doc: '32 random bytes, base64url (`node -e "console.log(crypto.randomBytes(32).toString(\'base64url\'))"`); required with PostgreSQL unless a key file is given' },
  previousMasterKeys: { env: 'KEYMINT_PREVIOUS_MASTER_KEYS', kind: 'list', defaultDoc: '(none)', secret: true, doc: 'master keys being rotated out, comma-separated' },
  masterKeyFile: { env: 'KEYMINT_MASTER_KEY_FILE', kind: 'string', defaultDoc: '`<db>.master.key`', doc: 'master key file; created (mode 0600) if missing' },
  headerLifetime: { env: 'KEYMINT_HEADER_TOKEN_LIFETIME', kind: 'duration', default: '4h', min: 60, max: 7 * DAY, doc: 'token lifetime of `/auth/oauth` and `/auth/oidc`' },
  oauth2Lifetime: { env: 'KEYMINT_OAUTH2_TOKEN_LIFETIME', kind: 'duration', default: '10h', min: 60, max: 7 * DAY, doc: 'token lifetime of `/oauth2/token`' },
  audience: { env: 'KEYMINT_AUDIENCE', kind: 'string', defaultDoc: 'the issuer', pattern: '^\\S{1,2048}$', rule: 'must be a URI without spaces', doc: '`aud` of access tokens' },
  signingAlg: { env: 'KEYMINT_SIGNING_ALG', kind: 'string', default: 'RS256', values: SIGNING_ALGS, doc: 'algorithm of the first signing key: `RS256`, `PS256`, `ES256`, `EdDSA`' },
  adminEmail: { env: 'KEYMINT_BOOTSTRAP_ADMIN_EMAIL', kind: 'string', default: 'admin@keymint.local', pattern: '^\\S{3,254}$', rule: 'must be an email address', doc: 'admin created on an empty database' },
  accountName: { env: 'KEYMINT_BOOTSTRAP_ACCOUNT_NAME', kind: 'string', default: 'Default', pattern: '^.{1,200}$', rule: 'must be 1 to 200 characters', doc: 'account created on an empty database' },
  logLevel: { env: 'KEYMINT_LOG_LEVEL', kind: 'string', default: 'info', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], doc: '`fatal` … `trace`, or `silent`' },
  requestLog: { env: 'KEYMINT_REQUEST_LOG', kind: 'string', default: 'all', values: ['all', 'errors', 'off'], doc: 'one JSON line per request at `info` (request id, method, route, status, duration, client, address): `all`, `errors` (answers of 400 and above only) or `off`' },
  keyPublishAhead: { env: 'KEYMINT_KEY_PUBLISH_AHEAD', kind: 'duration', default: '10m', min: 0, max: 7 * DAY, doc: 'how long a rotated-in signing key is published before it signs' },
  keyRefresh: { env: 'KEYMINT_KEY_REFRESH', kind: 'duration', default: '30s', min: 1, max: DAY, doc: 'how often each instance reloads server keys, as a fallback: changes arrive at once through `LISTEN`/`NOTIFY` (PostgreSQL) or within 200 ms through `PRAGMA data_version` (SQLite)' },
  revocationPoll: { env: 'KEYMINT_REVOCATION_POLL', kind: 'duration', default: '2s', min: 1, max: 3600, doc: 'how often each instance picks up token revocations made by other instances, as a fallback: its own count at once, others\' arrive at once through `LISTEN`/`NOTIFY` (PostgreSQL) or within 200 ms through `PRAGMA data_version` (SQLite)' },
  cacheMaxStale: { env: 'KEYMINT_CACHE_MAX_STALE', kind: 'duration', default: '5m', min: 0, max: DAY, doc: 'while the database is unreachable, key pairs held in memory keep getting tokens this long after they were last known current; `0` turns it off (everything that needs the database answers `503`)' },
  shutdownTimeout: { env: 'KEYMINT_SHUTDOWN_TIMEOUT', kind: 'duration', default: '20s', min: 1, max: 3600, doc: 'on `SIGTERM` or Ctrl-C, how long `serve` may take to finish in-flight requests and write what it holds in memory (token counts, last uses) before it exits anyway, with status 1 (a database that does not answer would otherwise hold the stop)' },
  unknownClientRate: { env: 'KEYMINT_UNKNOWN_CLIENT_RATE', kind: 'integer', default: 200, min: 1, max: 1_000_000, doc: 'lookups per second (and in a burst) of client ids that are not in memory and turn out not to exist; past it such lookups answer `503` with `Retry-After`, so a flood of made-up ids cannot keep the database busy (known key pairs are never held back)' },
  lastUsedFlush: { env: 'KEYMINT_LAST_USED_FLUSH', kind: 'duration', default: '10s', min: 1, max: 3600, doc: 'how often last uses (time, address, User-Agent), token counts, quota counts and refused authentications are written, and other instances\' quota counts read back' },
  trustProxy: { env: 'KEYMINT_TRUST_PROXY', kind: 'string', default: 'false', pattern: '^(true|false|\\d{1,2}|[0-9a-fA-F.:/, ]+)$', rule: 'must be true, false, a hop count, or addresses/CIDRs', doc: 'trust `X-Forwarded-For` from: `true`, a hop count, or addresses/CIDRs' },
  throttleWindow: { env: 'KEYMINT_THROTTLE_WINDOW', kind: 'duration', default: '1m', min: 1, max: DAY, doc: 'window for counting failed authentications; longest refusal' },
  throttleAddressLimit: { env: 'KEYMINT_THROTTLE_ADDRESS_LIMIT', kind: 'integer', default: 30, min: 1, max: 1_000_000, doc: 'failures per address and window before `429`, even for correct credentials' },
  throttleClientLimit: { env: 'KEYMINT_THROTTLE_CLIENT_LIMIT', kind: 'integer', default: 10, min: 1, max: 1_000_000, doc: 'failures per client_id and window before its further failures get `429` (correct credentials always pass)' },
  sessionIdle: { env: 'KEYMINT_SESSION_IDLE', kind: 'duration', default: '30m', min: 60, max: 7 * DAY, doc: 'a dashboard session unused this long ends' },
  sessionLifetime: { env: 'KEYMINT_SESSION_LIFETIME', kind: 'duration', default: '12h', min: 300, max: 30 * DAY, doc: 'a dashboard session ends this long after sign-in, however busy' },
  passwordHashCost: { env: 'KEYMINT_PASSWORD_HASH_COST', kind: 'integer', default: 15, min: 10, max: 20, doc: 'scrypt work for dashboard passwords, as log2 of N (r = 8): each step doubles the time and memory of a sign-in (15: 32 MiB); stored with each hash; a raised cost applies to each password at its next sign-in' },
  signInWindow: { env: 'KEYMINT_SIGN_IN_WINDOW', kind: 'duration', default: '15m', min: 1, max: DAY, doc: 'window for counting failed sign-ins; longest refusal' },
  signInAddressLimit: { env: 'KEYMINT_SIGN_IN_ADDRESS_LIMIT', kind: 'integer', default: 20, min: 1, max: 1_000_000, doc: 'failed sign-ins per address and window before `429`' },
  signInEmailLimit: { env: 'KEYMINT_SIGN_IN_EMAIL_LIMIT', kind: 'integer', default: 10, min: 1, max: 1_000_000, doc: 'failed sign-ins per email and window before `429` for that email, except from addresses it signed in from before' },
  webhooksAllowLoopback: { env: 'KEYMINT_WEBHOOKS_ALLOW_LOOPBACK', kind: 'string', default: 'false', values: ['true', 'false'], doc: 'development only: accept webhook URLs `http://127.0.0.1`, `http://[::1]` and `http://localhost` (else https only)' },
  federationAllowLoopback: { env: 'KEYMINT_FEDERATION_ALLOW_LOOPBACK', kind: 'string', default: 'false', values: ['true', 'false'], doc: 'development only: trust policies may name issuers `http://127.0.0.1`, `http://[::1]` and `http://localhost`, whose discovery and keys are then fetched over plain http (else https only)' },
  keyExpiryCheck: { env: 'KEYMINT_KEY_EXPIRY_CHECK', kind: 'duration', default: '1m', min: 1, max: 3600, doc: 'how often each instance looks for key pairs to remind of their expiry (30, 7 and 1 days before, and when it comes: audit log, webhooks) and updates `keymint_key_pairs_expiring`; each reminder goes out once, however many instances look' },
  webhookPoll: { env: 'KEYMINT_WEBHOOK_POLL', kind: 'duration', default: '5s', min: 1, max: 3600, doc: 'how often each instance sends the webhook deliveries that are due' },
  webhookTimeout: { env: 'KEYMINT_WEBHOOK_TIMEOUT', kind: 'duration', default: '10s', min: 1, max: 120, doc: 'how long a webhook receiver has to answer `2xx` before the attempt counts as failed and is retried' },
  dpopProofMaxAge: { env: 'KEYMINT_DPOP_PROOF_MAX_AGE', kind: 'duration', default: '60s', min: 5, max: 600, doc: 'oldest `iat` a DPoP proof (RFC 9449) may have at `/oauth2/token`; its `jti` is remembered in the database this long, so no instance accepts it twice' },
  dpopClockSkew: { env: 'KEYMINT_DPOP_CLOCK_SKEW', kind: 'duration', default: '5s', min: 0, max: 300, doc: 'how far ahead of the server\'s clock a DPoP proof\'s `iat` may be' },
  dpopNonceRequired: { env: 'KEYMINT_DPOP_NONCE_REQUIRED', kind: 'string', default: 'false', values: ['true', 'false'], doc: '`true`: every DPoP proof at `/oauth2/token` must carry a server nonce (RFC 9449 §8); one without gets `use_dpop_nonce` and a `DPoP-Nonce` to retry with' },
  metricsToken: { env: 'KEYMINT_METRICS_TOKEN', kind: 'string', defaultDoc: '(none)', secret: true, pattern: '^[\\x21-\\x7e]{16,512}$', rule: 'must be 16 to 512 printable characters without spaces', doc: 'bearer token `GET /metrics` requires (16–512 printable characters); unset, `/metrics` is open' },
} as const satisfies Record<string, SettingSpec>

export type SettingKey = keyof typeof SETTINGS

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[]

export const settingSpec = (key: SettingKey): SettingSpec => SETTINGS[key]

/** How a setting is named to the person who set it: its flag, else its variable. */
export const settingName = (key: SettingKey): string => settingSpec(key).flag?.split(' ')[0] ?? settingSpec(key).env

const cell = (text: string): string => text.replace(/\|/g, '\\|')

function defaultCell(spec: SettingSpec): string {
  if (spec.defaultDoc !== undefined) return spec.defaultDoc
  return `\`${String(spec.default)}\``
}

/** The README's settings table, made from SETTINGS. */
export function renderSettingsTable(): string {
  const rows = SETTING_KEYS.map((key) => {
    const spec = settingSpec(key)
    return `| \`${key}\` | ${spec.flag ? `\`${spec.flag}\`` : ''} | \`${spec.env}\` | ${cell(defaultCell(spec))} | ${cell(spec.doc)} |`
  })
  return ['| key | flag | variable | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n')
}

/** The settings without a flag, for the end of `serve --help`. */
export function describeEnvironment(): string {
  const rows = SETTING_KEYS.filter((key) => settingSpec(key).flag === undefined)
    .map((key) => `  ${settingSpec(key).env.padEnd(32)} ${describeSetting(key, false)}`)
  return ['Environment (also keys of --config <file>, a JSON object such as {"port": 8080}):', ...rows].join('\n')
}

/** One line for `--help`: the doc, the default and the variable. */
export function describeSetting(key: SettingKey, withVariable = true): string {
  const spec = settingSpec(key)
  const doc = spec.doc.replace(/`/g, '').replace(/ \(.*\)$/, '')
  return `${doc} (default ${defaultCell(spec).replace(/`/g, '')}${withVariable ? `; $${spec.env}` : ''}; key ${key})`
}
