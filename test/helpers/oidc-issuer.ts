import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { exportJWK, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { cleanup } from './cleanup.js'
import { testKeyPair } from './rsa-keys.js'

export interface IssuerKey {
  readonly kid: string
  readonly alg: 'RS256' | 'ES256'
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
}

export interface SignOptions {
  /** Sign with this key instead of the current one (its kid in the header unless `kid` says otherwise). */
  readonly key?: IssuerKey
  /** The header's kid; null leaves it out. */
  readonly kid?: string | null
  readonly typ?: string
}

/** What the issuer's HTTP side does, changeable during a test. */
export interface IssuerBehaviour {
  /** Answer discovery and the JWKS with this status instead. */
  failWith?: number | undefined
  /** Redirect the JWKS request to this URL. */
  redirectJwksTo?: string | undefined
  /** The discovery document names this issuer instead of its own. */
  claimIssuer?: string | undefined
}

/**
 * A real OpenID issuer on loopback, for workload identity federation tests: it publishes a
 * discovery document and a JWKS over HTTP, rotates its signing key, and signs tokens shaped
 * like GitHub Actions' OIDC tokens and Kubernetes' projected service account tokens. It counts
 * the requests it serves, so tests can see caching and refresh limits.
 */
export class OidcIssuer {
  readonly url: string
  /** Requests served, by path. */
  readonly requests = { discovery: 0, jwks: 0, actions: 0 }
  /** What a GitHub Actions job holds as ACTIONS_ID_TOKEN_REQUEST_TOKEN to ask `actionsRequestUrl` for tokens. */
  readonly actionsRequestToken = randomUUID()
  readonly behaviour: IssuerBehaviour = {}
  #keys: IssuerKey[]
  readonly #now: () => Date

  private constructor(url: string, first: IssuerKey, now: () => Date) {
    this.url = url
    this.#keys = [first]
    this.#now = now
  }

  /** Starts an issuer on 127.0.0.1 (port 0); `now` is the clock tokens are dated by (the server's, in tests). */
  static async start(t: TestContext, opts: { now?: () => Date; alg?: 'RS256' | 'ES256' } = {}): Promise<OidcIssuer> {
    const first = await OidcIssuer.newKey(opts.alg ?? 'RS256')
    // The URL is known once listening; requests can only come after that.
    const ref: { issuer?: OidcIssuer } = {}
    const server = createServer((req, res) => ref.issuer?.handle(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const issuer = new OidcIssuer(`http://127.0.0.1:${port}`, first, opts.now ?? (() => new Date()))
    ref.issuer = issuer
    cleanup(t, () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }))
    return issuer
  }

  /** A key pair an issuer could sign with; not published until `publish` or `rotate`. */
  static async newKey(alg: 'RS256' | 'ES256' = 'RS256'): Promise<IssuerKey> {
    const { publicKey, privateKey } = await testKeyPair(alg)
    const kid = randomUUID()
    return { kid, alg, privateKey, publicJwk: { ...await exportJWK(publicKey), kid, alg, use: 'sig' } }
  }

  get currentKey(): IssuerKey {
    return this.#keys[this.#keys.length - 1]!
  }

  /** The JWKS as published: every key still listed. */
  get jwks(): { keys: JWK[] } {
    return { keys: this.#keys.map((k) => k.publicJwk) }
  }

  /** Starts signing with a new key; the old one stays published unless `dropOld`. */
  async rotate(opts: { dropOld?: boolean } = {}): Promise<IssuerKey> {
    const next = await OidcIssuer.newKey(this.currentKey.alg)
    this.#keys = opts.dropOld ? [next] : [...this.#keys, next]
    return next
  }

  /** Signs any claims; `iss` is the issuer's unless given, times are the issuer's clock. */
  async sign(claims: JWTPayload, opts: SignOptions = {}): Promise<string> {
    const key = opts.key ?? this.currentKey
    const kid = opts.kid === undefined ? key.kid : opts.kid
    const header = { alg: key.alg, ...(kid === null ? {} : { kid }), ...(opts.typ === undefined ? { typ: 'JWT' } : { typ: opts.typ }) }
    return new SignJWT({ iss: this.url, ...claims }).setProtectedHeader(header).sign(key.privateKey)
  }

  /** Like a runner's ACTIONS_ID_TOKEN_REQUEST_URL: it already has a query, `&audience=` is appended. */
  get actionsRequestUrl(): string {
    return `${this.url}/_apis/idtoken?api-version=2.0`
  }

  /** Seconds since the epoch by the issuer's clock. */
  nowSeconds(): number {
    return Math.floor(this.#now().getTime() / 1000)
  }

  /**
   * A token shaped like GitHub Actions' (a push to main of acme/deploy running the `release`
   * workflow); `claims` override or add (`undefined` removes).
   */
  github(audience: string, claims: Record<string, unknown> = {}, opts: SignOptions = {}): Promise<string> {
    const now = this.nowSeconds()
    return this.sign(defined({
      jti: randomUUID(), sub: 'repo:acme/deploy:ref:refs/heads/main', aud: audience,
      ref: 'refs/heads/main', sha: 'd6fe2a5b1c0e4f7a9b8c3d2e1f0a9b8c7d6e5f4a', repository: 'acme/deploy', repository_owner: 'acme',
      repository_owner_id: '65432', repository_id: '123456', repository_visibility: 'private', run_id: '9876543210', run_number: '42',
      run_attempt: '1', actor: 'octocat', actor_id: '583231', workflow: 'release', event_name: 'push', ref_type: 'branch', ref_protected: 'true',
      workflow_ref: 'acme/deploy/.github/workflows/release.yml@refs/heads/main', job_workflow_ref: 'acme/deploy/.github/workflows/release.yml@refs/heads/main',
      runner_environment: 'github-hosted', nbf: now - 5, iat: now, exp: now + 300,
      ...claims,
    }), opts)
  }

  /** A token shaped like a Kubernetes projected service account token (billing/sync), `claims` as for `github`. */
  kubernetes(audience: string, claims: Record<string, unknown> = {}, opts: SignOptions = {}): Promise<string> {
    const now = this.nowSeconds()
    return this.sign(defined({
      aud: [audience], sub: 'system:serviceaccount:billing:sync', jti: randomUUID(),
      'kubernetes.io': {
        namespace: 'billing',
        node: { name: 'node-1', uid: randomUUID() },
        pod: { name: 'sync-7d9f8b6c5-x2x4z', uid: randomUUID() },
        serviceaccount: { name: 'sync', uid: randomUUID() },
      },
      nbf: now, iat: now, exp: now + 3600,
      ...claims,
    }), { typ: 'JWT', ...opts })
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.url).pathname
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (path === '/.well-known/openid-configuration') {
      this.requests.discovery++
      if (this.behaviour.failWith !== undefined) return json(this.behaviour.failWith, { error: 'unavailable' })
      return json(200, {
        issuer: this.behaviour.claimIssuer ?? this.url, jwks_uri: `${this.url}/.well-known/jwks`,
        response_types_supported: ['id_token'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      })
    }
    if (path === '/.well-known/jwks') {
      this.requests.jwks++
      if (this.behaviour.failWith !== undefined) return json(this.behaviour.failWith, { error: 'unavailable' })
      if (this.behaviour.redirectJwksTo !== undefined) {
        res.writeHead(302, { location: this.behaviour.redirectJwksTo })
        res.end()
        return
      }
      return json(200, this.jwks)
    }
    if (path === '/_apis/idtoken') {
      // The runner's token service: the job's request token as bearer, the audience in the query.
      this.requests.actions++
      if (req.headers.authorization !== `bearer ${this.actionsRequestToken}`) return json(401, { message: 'bad request token' })
      const audience = new URL(req.url ?? '/', this.url).searchParams.get('audience') ?? 'https://github.com/acme'
      this.github(audience).then((value) => json(200, { count: value.length, value }), () => json(500, {}))
      return
    }
    json(404, { error: 'not_found' })
  }
}

function defined(claims: Record<string, unknown>): JWTPayload {
  return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined))
}

/** A token with `alg: none`: header and payload, no signature. */
export function unsignedToken(claims: JWTPayload): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`
}

/** A token signed with HMAC (a shared secret an issuer never has with keymint). */
export function hmacToken(claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256'))
}
