import { fetchWithBearer } from './bearer-fetch.js'
import { discoverTokenEndpoint } from './discovery.js'
import { DPoPProver } from './dpop.js'
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
 * With `dpop`, tokens are bound to a key the client holds (RFC 9449), whether it authenticates
 * with a key pair or a platform token: each token request and each {@link TokenClient.fetch}
 * carries a fresh proof, and a server's `use_dpop_nonce` is answered once with a proof carrying
 * the nonce it sent.
 *
 * @param options - issuer or token endpoint, credentials, dialect, and tuning
 * @example
 * ```ts
 * import { TokenClient } from 'keymint/client'
 *
 * const client = new TokenClient({ issuer: 'https://id.example.com', clientId: ID, clientSecret: SECRET, dpop: true })
 * const res = await client.fetch('https://api.example.com/assets')
 *
 * // In a Kubernetes pod, with a projected service account token and no secret:
 * const workload = new TokenClient({ issuer: 'https://id.example.com', platformToken: { file: '/var/run/secrets/keymint/token' } })
 * ```
 */
export class TokenClient {
  readonly #settings: ClientSettings
  readonly #transport: Transport
  readonly #prover: DPoPProver | undefined
  #endpoint: Promise<string> | undefined
  #current: CachedToken | undefined
  #pending: Promise<CachedToken> | undefined

  constructor(options: TokenClientOptions) {
    this.#settings = resolveSettings(options)
    this.#transport = createTransport(this.#settings.fetch, this.#settings.requestTimeoutMs)
    this.#prover = this.#settings.dpop === undefined ? undefined : new DPoPProver(this.#settings.dpop, this.#settings.now)
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
   * `fetch` with `Authorization: Bearer <token>`, or `Authorization: DPoP <token>` and a `DPoP`
   * proof for this request when the client uses DPoP; after a `401` it refreshes the token and
   * retries once (and once more with a new proof when the API asks for a DPoP nonce).
   *
   * @param input - the API URL or Request
   * @param init - as for `fetch`
   * @example
   * ```ts
   * const res = await client.fetch('https://api.example.com/assets', { method: 'GET' })
   * ```
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    return fetchWithBearer({
      getTokenResponse: () => this.getTokenResponse(),
      invalidate: (token) => this.invalidate(token),
      credentials: (token, method, url) => this.#credentials(token, method, url),
      noteNonce: (url, res) => this.#prover?.noteNonce(url, res) ?? false,
    }, this.#settings.fetch, input, init)
  }

  /**
   * The headers that present the current token for one request to an API: `authorization`, and
   * for a DPoP-bound token the `dpop` proof made for this method and URL (RFC 9449 §7).
   *
   * @param method - the request method
   * @param url - the absolute URL of the request
   * @example
   * ```ts
   * const headers = await client.requestHeaders('GET', 'https://api.example.com/assets')
   * await fetch('https://api.example.com/assets', { headers })
   * ```
   */
  async requestHeaders(method: string, url: string | URL): Promise<Record<string, string>> {
    return this.#credentials(await this.getTokenResponse(), method, String(url))
  }

  /**
   * A DPoP proof (RFC 9449 §4.2) for a request, signed with the client's key; with `accessToken`,
   * bound to it (`ath`). Throws unless the client was made with `dpop`.
   *
   * @param method - the request method
   * @param url - the absolute URL of the request (query and fragment are left out of `htu`)
   * @param accessToken - the DPoP-bound token the request presents
   * @example
   * ```ts
   * const proof = await client.dpopProof('POST', 'https://api.example.com/orders', await client.getToken())
   * ```
   */
  dpopProof(method: string, url: string | URL, accessToken?: string): Promise<string> {
    if (!this.#prover) return Promise.reject(new TypeError('TokenClient: dpopProof needs a client made with the dpop option'))
    return this.#prover.proof(method, String(url), accessToken)
  }

  async #credentials(token: Pick<TokenResponse, 'accessToken' | 'tokenType'>, method: string, url: string): Promise<Record<string, string>> {
    if (token.tokenType !== 'DPoP' || !this.#prover) return { authorization: `Bearer ${token.accessToken}` }
    return { authorization: `DPoP ${token.accessToken}`, dpop: await this.#prover.proof(method, url, token.accessToken) }
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
      const res = await this.#exchange(url)
      const issued = s.dialect === 'oauth2' ? await readOAuth2Token(res, url, this.#bindsTokens() ? 'DPoP' : 'Bearer') : await readHeaderToken(res, url)
      return cacheToken(issued, startedAt, { skewSeconds: s.refreshSkewSeconds, assumedLifetimeSeconds: s.assumedLifetimeSeconds })
    }, s.retry)
  }

  /** Whether token requests carry a DPoP proof: those of the RFC 6749 dialect (key pair or platform token), with a key. */
  #bindsTokens(): boolean {
    return this.#prover !== undefined && this.#settings.dialect === 'oauth2'
  }

  /** One request; `platformToken` is the one read for this attempt. */
  async #tokenRequest(url: string, platformToken: string | undefined): Promise<RequestInit> {
    const s = this.#settings
    const proof = this.#bindsTokens() ? await this.#prover?.proof('POST', url) : undefined
    if (s.platform && platformToken !== undefined) {
      return platformTokenRequest(platformToken, { use: s.platform.use, scope: s.scope, resource: s.resource, clientId: s.clientId === '' ? undefined : s.clientId, dpopProof: proof })
    }
    if (s.dialect !== 'oauth2') return headerTokenRequest(s)
    return oauth2TokenRequest(s, proof)
  }

  /**
   * One token request, sent again once with a new proof when the server asks for its DPoP nonce
   * (RFC 9449 §8). A platform token is read anew for each attempt (a file's current content); the
   * nonce retry sends the same one, which keymint leaves unspent when it refuses a proof.
   */
  async #exchange(url: string): Promise<Response> {
    const s = this.#settings
    const prover = this.#bindsTokens() ? this.#prover : undefined
    const platformToken = s.platform ? await readPlatformToken(s.platform.source) : undefined
    for (let nonceRetry = false; ; nonceRetry = true) {
      const res = await this.#transport(url, await this.#tokenRequest(url, platformToken))
      const gotNonce = prover?.noteNonce(url, res) ?? false
      if (res.status >= 200 && res.status <= 299) return res
      const err = await tokenErrorFrom(res, url, s.now())
      if (err.error !== 'use_dpop_nonce' || !gotNonce || nonceRetry) throw err
    }
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
