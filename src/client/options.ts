import type { RetryPolicy } from './backoff.js'
import type { PlatformTokenSource, PlatformTokenUse } from './platform-token.js'
import { checkDPoPOption, type DPoPOption } from './dpop.js'

/**
 * Which wire format to speak: RFC 6749 client credentials at `/oauth2/token`, or keymint's header
 * dialect (`clientId`/`clientSecret` headers, the bare token as `text/plain`).
 *
 * @example
 * ```ts
 * const dialect: TokenDialect = 'header'
 * ```
 */
export type TokenDialect = 'oauth2' | 'header'

/**
 * The header dialect's `encrypted` field: `true` (JWE `RSA-OAEP-256`), `RSA512` (`RSA-OAEP-512`) or
 * a JWE algorithm name; `false` asks for a plain signed token.
 *
 * @example
 * ```ts
 * const encrypted: TokenEncryption = 'RSA512'
 * ```
 */
export type TokenEncryption = boolean | 'RSA512' | 'RSA-OAEP-256' | 'RSA-OAEP-384' | 'RSA-OAEP-512'

/**
 * Configuration of a {@link TokenClient}. Give `issuer` (the token endpoint is then discovered
 * through RFC 8414 metadata, or derived for the header dialect) or `tokenEndpoint`.
 *
 * @example
 * ```ts
 * const options: TokenClientOptions = { issuer: 'https://id.example.com', clientId, clientSecret }
 * ```
 */
export interface TokenClientOptions {
  /** Base URL of the keymint server, as in the `iss` of its tokens. */
  readonly issuer?: string | undefined
  /** The token endpoint itself; skips discovery. */
  readonly tokenEndpoint?: string | undefined
  /** The key pair's client_id; with `platformToken`, optionally the trust policy's id (when several accept the token). */
  readonly clientId?: string | undefined
  /** The key pair's client_secret; not with `platformToken`. */
  readonly clientSecret?: string | undefined
  /**
   * Workload identity federation: no key pair, but the platform's own token (GitHub Actions,
   * a Kubernetes service account), which a trust policy accepts. Read again for every token
   * request: a file's current content, or what the function returns. OAuth 2.0 dialect only.
   */
  readonly platformToken?: PlatformTokenSource | undefined
  /** How the platform token is sent: `'token_exchange'` (RFC 8693, default) or `'client_assertion'` (RFC 7523). */
  readonly platformTokenUse?: PlatformTokenUse | undefined
  /** Default `'oauth2'`. */
  readonly dialect?: TokenDialect | undefined
  /** OAuth 2.0 dialect only: the scopes to ask for (a space-separated string or a list). */
  readonly scope?: string | readonly string[] | undefined
  /** RFC 8707 resource indicator: the API the token is for. */
  readonly resource?: string | undefined
  /** Header dialect only: ask for an encrypted (nested JWT) token. */
  readonly encrypted?: TokenEncryption | undefined
  /**
   * OAuth 2.0 dialect only: get DPoP-bound tokens (RFC 9449), sender-constrained to a key this
   * client holds, with a key pair or a platform token. `true` makes an ES256 key kept for the
   * client's lifetime; see {@link DPoPOption}.
   * {@link TokenClient.fetch} then sends `Authorization: DPoP` with a proof for each request.
   */
  readonly dpop?: DPoPOption | undefined
  /** Header dialect with `issuer`: `/auth/oauth` for `'subscription'` (default), `/auth/oidc` for `'user'`. */
  readonly level?: 'subscription' | 'user' | undefined
  /** Refresh this long before expiry; default 60 s or 10 % of the lifetime, whichever is smaller. */
  readonly refreshSkewSeconds?: number | undefined
  /**
   * Lifetime assumed when the answer states none and the token is no readable JWT (encrypted
   * header-dialect tokens); default the dialect's server default: 4 h for the header dialect, 10 h for OAuth 2.0.
   */
  readonly assumedLifetimeSeconds?: number | undefined
  /** Retries of a transient failure (no answer, 5xx, 429); default 4. */
  readonly maxRetries?: number | undefined
  /** Ceiling of the first backoff delay; default 250 ms, doubling per retry. */
  readonly retryBaseMs?: number | undefined
  /** Longest wait between attempts; a longer `Retry-After` fails at once. Default 10 000 ms. */
  readonly retryMaxDelayMs?: number | undefined
  /** Limit of one exchange with the server; default 10 000 ms. */
  readonly requestTimeoutMs?: number | undefined
  /** The `fetch` to use for token requests and for {@link TokenClient.fetch}; default the global one. */
  readonly fetch?: typeof fetch | undefined
  /** The current time in milliseconds; default `Date.now`. */
  readonly now?: (() => number) | undefined
}

/**
 * Where the token endpoint comes from: given, or discovered from the issuer's metadata.
 *
 * @example
 * ```ts
 * const source: EndpointSource = { kind: 'discover', issuer: 'https://id.example.com' }
 * ```
 */
export type EndpointSource = { readonly kind: 'fixed'; readonly url: string } | { readonly kind: 'discover'; readonly issuer: string }

/**
 * {@link TokenClientOptions} checked and completed with their defaults.
 *
 * @example
 * ```ts
 * const settings: ClientSettings = resolveSettings(options)
 * ```
 */
export interface ClientSettings {
  readonly endpoint: EndpointSource
  readonly issuer: string | undefined
  /** Empty with a platform token and no policy id. */
  readonly clientId: string
  /** Empty with a platform token (never sent then). */
  readonly clientSecret: string
  /** Set instead of a key pair: where the platform token comes from and how it is sent. */
  readonly platform: { readonly source: PlatformTokenSource; readonly use: PlatformTokenUse } | undefined
  readonly dialect: TokenDialect
  readonly scope: string | undefined
  readonly resource: string | undefined
  readonly encrypted: string | undefined
  /** How to make DPoP proofs; undefined for bearer tokens. */
  readonly dpop: Exclude<DPoPOption, false> | undefined
  readonly refreshSkewSeconds: number | undefined
  readonly assumedLifetimeSeconds: number
  readonly retry: RetryPolicy
  readonly requestTimeoutMs: number
  readonly fetch: typeof fetch
  readonly now: () => number
}

const HEADER_PATHS = { subscription: '/auth/oauth', user: '/auth/oidc' } as const
const DEFAULT_LIFETIME = { header: 4 * 3600, oauth2: 10 * 3600 } as const

function absoluteUrl(name: string, value: string): string {
  try {
    new URL(value)
  } catch (err) {
    throw new TypeError(`TokenClient: ${name} must be an absolute URL`, { cause: err })
  }
  return value
}

function count(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`TokenClient: ${name} must be a number ≥ 0`)
  return value
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const n = count(name, value, fallback)
  if (n === 0) throw new TypeError(`TokenClient: ${name} must be greater than 0`)
  return n
}

function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`TokenClient: ${name} is required`)
  return value
}

function platformSettings(options: TokenClientOptions, dialect: TokenDialect): ClientSettings['platform'] {
  const source = options.platformToken
  if (source === undefined) {
    if (options.platformTokenUse !== undefined) throw new TypeError('TokenClient: platformTokenUse needs platformToken')
    return undefined
  }
  if (typeof source !== 'function' && (typeof source !== 'object' || source === null || typeof source.file !== 'string' || source.file === '')) {
    throw new TypeError('TokenClient: platformToken must be { file } or a function returning the token')
  }
  if (options.clientSecret !== undefined) throw new TypeError('TokenClient: a platform token replaces the client secret; give one of them')
  if (dialect !== 'oauth2') throw new TypeError('TokenClient: a platform token works with the oauth2 dialect only')
  const use = options.platformTokenUse ?? 'token_exchange'
  if (use !== 'token_exchange' && use !== 'client_assertion') throw new TypeError('TokenClient: platformTokenUse must be token_exchange or client_assertion')
  return Object.freeze({ source, use })
}

/**
 * Checks `options` and fills in defaults; a misconfiguration throws a TypeError at construction,
 * not at the first request.
 *
 * @param options - what the caller passed to the constructor
 * @example
 * ```ts
 * const settings = resolveSettings({ tokenEndpoint: 'https://id.example.com/oauth2/token', clientId, clientSecret })
 * ```
 */
export function resolveSettings(options: TokenClientOptions): ClientSettings {
  const dialect = options.dialect ?? 'oauth2'
  if (dialect !== 'oauth2' && dialect !== 'header') throw new TypeError(`TokenClient: unknown dialect ${String(dialect)}`)
  const issuer = options.issuer === undefined ? undefined : absoluteUrl('issuer', options.issuer).replace(/\/+$/, '')
  if (options.level !== undefined && options.level !== 'subscription' && options.level !== 'user') {
    throw new TypeError('TokenClient: level must be subscription or user')
  }
  if (dialect === 'oauth2' && (options.encrypted !== undefined || options.level !== undefined)) {
    // In the OAuth 2.0 dialect the client's registration decides both; sending them would be ignored.
    throw new TypeError('TokenClient: encrypted and level apply to the header dialect only')
  }
  if (dialect === 'header' && options.scope !== undefined) {
    throw new TypeError('TokenClient: scope applies to the oauth2 dialect only')
  }
  checkDPoPOption(options.dpop)
  const dpop = options.dpop === undefined || options.dpop === false ? undefined : options.dpop
  // The header dialect has no place for a proof: its tokens are bearer tokens.
  if (dialect === 'header' && dpop !== undefined) throw new TypeError('TokenClient: dpop applies to the oauth2 dialect only')
  let endpoint: EndpointSource
  if (options.tokenEndpoint !== undefined) endpoint = { kind: 'fixed', url: absoluteUrl('tokenEndpoint', options.tokenEndpoint) }
  else if (issuer === undefined) throw new TypeError('TokenClient: issuer or tokenEndpoint is required')
  else if (dialect === 'header') endpoint = { kind: 'fixed', url: `${issuer}${HEADER_PATHS[options.level ?? 'subscription']}` }
  else endpoint = { kind: 'discover', issuer }

  const platform = platformSettings(options, dialect)
  const scope = typeof options.scope === 'string' ? options.scope : options.scope?.join(' ')
  const encrypted = options.encrypted === undefined || options.encrypted === false ? undefined : String(options.encrypted)
  const fetchImpl = options.fetch ?? ((input: string | URL | Request, init?: RequestInit) => fetch(input, init))
  return Object.freeze({
    endpoint,
    issuer,
    clientId: platform && options.clientId === undefined ? '' : nonEmpty('clientId', options.clientId),
    clientSecret: platform ? '' : nonEmpty('clientSecret', options.clientSecret),
    platform,
    dialect,
    scope: scope === '' ? undefined : scope,
    resource: options.resource,
    encrypted,
    dpop,
    refreshSkewSeconds: options.refreshSkewSeconds === undefined ? undefined : count('refreshSkewSeconds', options.refreshSkewSeconds, 0),
    assumedLifetimeSeconds: count('assumedLifetimeSeconds', options.assumedLifetimeSeconds, DEFAULT_LIFETIME[dialect]),
    retry: Object.freeze({
      maxRetries: Math.floor(count('maxRetries', options.maxRetries, 4)),
      baseMs: count('retryBaseMs', options.retryBaseMs, 250),
      maxDelayMs: count('retryMaxDelayMs', options.retryMaxDelayMs, 10_000),
    }),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, 10_000),
    fetch: fetchImpl as typeof fetch,
    now: options.now ?? Date.now,
  })
}
