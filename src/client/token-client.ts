import { fetchWithBearer } from './bearer-fetch.js'
import { discoverTokenEndpoint } from './discovery.js'
import { headerTokenRequest, readHeaderToken } from './header-dialect.js'
import { createTransport, tokenErrorFrom, type Transport } from './http.js'
import { oauth2TokenRequest, readOAuth2Token } from './oauth2-dialect.js'
import { platformTokenRequest, readPlatformToken } from './platform-token.js'
import { resolveSettings, type ClientSettings, type TokenClientOptions } from './options.js'
import { isTransient, withRetries } from './retry.js'
import { cacheToken, type CachedToken, type TokenResponse } from './token-response.js'

/**
 * Gets access tokens from keymint with a key pair (client credentials), in either dialect, or
 * with a platform token a trust policy accepts (workload identity federation), and
 * keeps one cached: refreshed ahead of expiry, one request however many callers wait for it,
 * transient failures retried with jittered backoff, `invalid_client` and other refusals never.
 *
 * If a refresh fails transiently while the cached token has not expired yet, that token is
 * returned and the next call tries again. An encrypted header-dialect token (a JWE) cannot be
 * read, so its lifetime is taken as `assumedLifetimeSeconds` (default 4 h, the server's default);
 * set it when the client's lifetime is shorter.
 *
 * @param options - issuer or token endpoint, credentials, dialect, and tuning
 * @example
 * ```ts
 * import { TokenClient } from 'keymint/client'
 *
 * const client = new TokenClient({ issuer: 'https://id.example.com', clientId: ID, clientSecret: SECRET })
 * const res = await client.fetch('https://api.example.com/assets')
 *
 * // In a Kubernetes pod, with a projected service account token and no secret:
 * const workload = new TokenClient({ issuer: 'https://id.example.com', platformToken: { file: '/var/run/secrets/keymint/token' } })
 * ```
 */
export class TokenClient {
  readonly #settings: ClientSettings
  readonly #transport: Transport
  #endpoint: Promise<string> | undefined
  #current: CachedToken | undefined
  #pending: Promise<CachedToken> | undefined

  constructor(options: TokenClientOptions) {
    this.#settings = resolveSettings(options)
    this.#transport = createTransport(this.#settings.fetch, this.#settings.requestTimeoutMs)
  }

  /**
   * Returns a valid access token, from the cache when it is not yet due for refresh.
   *
   * @example
   * ```ts
   * const token = await client.getToken()
   * await fetch(url, { headers: { authorization: `Bearer ${token}` } })
   * ```
   */
  async getToken(): Promise<string> {
    return (await this.getTokenResponse()).accessToken
  }

  /**
   * Like {@link TokenClient.getToken}, with the token's lifetime, expiry time and scope.
   *
   * @example
   * ```ts
   * const { accessToken, expiresAt, scope } = await client.getTokenResponse()
   * ```
   */
  async getTokenResponse(): Promise<TokenResponse> {
    const current = this.#current
    if (current !== undefined && this.#settings.now() < current.refreshAt) return current.response
    try {
      return (await (this.#pending ?? this.#refresh())).response
    } catch (err) {
      // Refreshing early exists to ride out an outage: while the old token is still valid, use it.
      if (current !== undefined && isTransient(err) && this.#settings.now() < current.response.expiresAt) return current.response
      throw err
    }
  }

  /**
   * Forgets the cached token, so the next call gets a new one; with `token`, only if that is still
   * the cached one (several callers refused with the same token then cause one refresh).
   *
   * @param token - the token an API refused
   * @example
   * ```ts
   * if (res.status === 401) client.invalidate(token)
   * ```
   */
  invalidate(token?: string): void {
    if (token === undefined || this.#current?.response.accessToken === token) this.#current = undefined
  }

  /**
   * `fetch` with `Authorization: Bearer <token>`; after a `401` it refreshes the token and retries once.
   *
   * @param input - the API URL or Request
   * @param init - as for `fetch`
   * @example
   * ```ts
   * const res = await client.fetch('https://api.example.com/assets', { method: 'GET' })
   * ```
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    return fetchWithBearer(this, this.#settings.fetch, input, init)
  }

  /** Starts the one refresh every caller waits for until it settles. */
  #refresh(): Promise<CachedToken> {
    const pending = this.#requestToken().then((token) => {
      this.#current = token
      return token
    })
    this.#pending = pending
    const settle = () => {
      if (this.#pending === pending) this.#pending = undefined
    }
    pending.then(settle, settle)
    return pending
  }

  async #requestToken(): Promise<CachedToken> {
    const s = this.#settings
    const url = await this.#tokenEndpoint()
    return withRetries(async () => {
      const startedAt = s.now()
      const res = await this.#transport(url, await this.#tokenRequest())
      if (res.status < 200 || res.status > 299) throw await tokenErrorFrom(res, url, s.now())
      const issued = s.dialect === 'oauth2' ? await readOAuth2Token(res, url) : await readHeaderToken(res, url)
      return cacheToken(issued, startedAt, { skewSeconds: s.refreshSkewSeconds, assumedLifetimeSeconds: s.assumedLifetimeSeconds })
    }, s.retry)
  }

  /** One attempt's request; a platform token is read anew for each (a file's current content). */
  async #tokenRequest(): Promise<RequestInit> {
    const s = this.#settings
    if (s.platform) {
      const token = await readPlatformToken(s.platform.source)
      return platformTokenRequest(token, { use: s.platform.use, scope: s.scope, resource: s.resource, clientId: s.clientId === '' ? undefined : s.clientId })
    }
    return s.dialect === 'oauth2' ? oauth2TokenRequest(s) : headerTokenRequest(s)
  }

  /** The token endpoint; discovered once, and again only after a failed discovery. */
  #tokenEndpoint(): Promise<string> {
    const source = this.#settings.endpoint
    if (source.kind === 'fixed') return Promise.resolve(source.url)
    if (this.#endpoint === undefined) {
      const discovery = withRetries(() => discoverTokenEndpoint(source.issuer, this.#transport, this.#settings.now()), this.#settings.retry)
      this.#endpoint = discovery
      discovery.catch(() => {
        if (this.#endpoint === discovery) this.#endpoint = undefined
      })
    }
    return this.#endpoint
  }
}
