import type { CryptoKey, JWK, JWTHeaderParameters, JWTPayload, KeyObject } from 'jose'

/**
 * The claims of a keymint access token (RFC 9068 §2.2 plus keymint's `account_id` and `client_level`).
 *
 * @example
 * ```ts
 * const { claims } = await verifier.verify(token)
 * console.log(claims.client_id, claims.account_id, claims.scope)
 * ```
 */
export interface AccessTokenClaims extends JWTPayload {
  readonly iss: string
  readonly sub: string
  readonly aud: string | string[]
  readonly exp: number
  readonly iat: number
  readonly jti: string
  readonly client_id: string
  readonly scope: string
  readonly account_id: string
  readonly client_level: string
  /** RFC 9449 §6.1: present on DPoP-bound tokens, naming the key (`jkt`, its RFC 7638 thumbprint). */
  readonly cnf?: { readonly jkt?: string } | undefined
}

/**
 * A token that passed every check: its claims, its granted scopes and the signed header.
 *
 * @example
 * ```ts
 * const token: VerifiedToken = await verifier.verify(bearer)
 * if (token.scopes.includes('reports:read')) serveReports(token.claims.account_id)
 * ```
 */
export interface VerifiedToken {
  readonly claims: AccessTokenClaims
  /** `scope` split on spaces; `['all']` for an unrestricted client (see {@link requireScopes}). */
  readonly scopes: readonly string[]
  /** The protected header of the signed token (of the inner token when it was encrypted). */
  readonly header: JWTHeaderParameters
  /** True when the token arrived as a nested JWE. */
  readonly encrypted: boolean
  /** For a DPoP-bound token presented with a valid proof: the thumbprint of the key it proved. */
  readonly jkt?: string | undefined
}

/**
 * What {@link Verifier.verifyRequest} reads of a request to a protected resource.
 *
 * @example
 * ```ts
 * const request: ResourceRequest = { method: 'GET', url: 'https://api.example.com/reports?page=2', authorization: req.headers.authorization, dpop: req.headers.dpop }
 * ```
 */
export interface ResourceRequest {
  /** The `Authorization` header: `Bearer <token>`, or `DPoP <token>` for a DPoP-bound token. */
  readonly authorization: string | readonly string[] | undefined
  /** The `DPoP` header (RFC 9449 §7): the proof that goes with a DPoP-bound token. */
  readonly dpop: string | readonly string[] | undefined
  /** The request method, as the proof's `htm` must name it. */
  readonly method: string
  /** The absolute URL the client called, as the proof's `htu` must name it (query and fragment are ignored). */
  readonly url: string
}

/**
 * How DPoP proofs (RFC 9449) are checked for DPoP-bound tokens.
 *
 * @example
 * ```ts
 * const dpop: DPoPOptions = { maxAgeSeconds: 30, algorithms: ['ES256', 'EdDSA'] }
 * ```
 */
export interface DPoPOptions {
  /** Proof algorithms accepted; default ES256/384/512, EdDSA, RS256/384/512, PS256/384/512. Asymmetric only. */
  readonly algorithms?: readonly string[] | undefined
  /** Oldest `iat` accepted, in seconds; default 60. Each proof's `jti` is remembered this long. */
  readonly maxAgeSeconds?: number | undefined
  /** How far ahead of this server's clock an `iat` may be; default 5 seconds. */
  readonly clockSkewSeconds?: number | undefined
  /** Proof ids held for replay detection (in memory); default 100 000, the oldest forgotten first. */
  readonly maxRememberedProofs?: number | undefined
}

/**
 * A `fetch` implementation, for proxies, custom agents or tests.
 *
 * @example
 * ```ts
 * const fetchImpl: FetchLike = (url, init) => fetch(url, init)
 * ```
 */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>

/**
 * A private key to open encrypted (nested JWE) tokens: PEM text (PKCS#8 or PKCS#1), a private
 * JWK, a node:crypto `KeyObject` or a WebCrypto `CryptoKey`. RSA keys open RSA-OAEP-256/384/512
 * tokens; EC (P-256, P-384, P-521) and X25519 keys open ECDH-ES tokens. For tokens of a
 * registered API with an encryption key, the private half of that key; for encrypted tokens of
 * the default audience, keymint's own key (`keymint encryption-key export`).
 *
 * @example
 * ```ts
 * const key: DecryptionKey = readFileSync('api-enc.key.pem', 'utf8')
 * ```
 */
export type DecryptionKey = string | KeyObject | CryptoKey | JWK

/**
 * Credentials for reading the server's revocation feed, and how often to read it.
 *
 * @example
 * ```ts
 * const revocation: RevocationOptions = { clientId: process.env.RS_ID!, clientSecret: process.env.RS_SECRET!, intervalSeconds: 15 }
 * ```
 */
export interface RevocationOptions {
  /** A key pair of the account whose tokens this API accepts; the feed covers that account only. */
  readonly clientId: string
  readonly clientSecret: string
  /** Seconds between polls; default 30. */
  readonly intervalSeconds?: number | undefined
  /** Called with each failed background poll (the last good state stays in force). */
  readonly onError?: ((err: unknown) => void) | undefined
}

/**
 * How {@link createVerifier} checks tokens.
 *
 * @example
 * ```ts
 * const options: VerifierOptions = { issuer: 'https://auth.example.com', audience: 'https://api.example.com' }
 * ```
 */
export interface VerifierOptions {
  /** The issuer exactly as in the tokens' `iss` and in the server's metadata. */
  readonly issuer: string
  /** The `aud` this API accepts (one of them, when several). */
  readonly audience: string | readonly string[]
  /**
   * Accept only tokens whose `account_id` is this account. Tokens for keymint's default audience
   * (the issuer) are issued to every account: an API that serves one account pins it here.
   */
  readonly accountId?: string | undefined
  /** Signature algorithms accepted; default RS256, PS256, ES256, EdDSA. `none` and HMAC are refused. */
  readonly algorithms?: readonly string[] | undefined
  /** The private key encrypted tokens for this API are encrypted to; without it they are refused. */
  readonly decryptionKey?: DecryptionKey | undefined
  /** Leeway for `exp` and `nbf`; default 30 seconds. */
  readonly clockToleranceSeconds?: number | undefined
  /** Poll the server's revocation feed and refuse revoked tokens and key pairs. */
  readonly revocation?: RevocationOptions | undefined
  /** `fetch` used for metadata, JWKS and the revocation feed; default the global one. */
  readonly fetch?: FetchLike | undefined
  /** The current time; default `() => new Date()`. */
  readonly now?: (() => Date) | undefined
  /** How DPoP-bound tokens' proofs are checked (RFC 9449 §7). */
  readonly dpop?: DPoPOptions | undefined
}

/**
 * A token verifier bound to one issuer and audience.
 *
 * @example
 * ```ts
 * const verifier: Verifier = createVerifier({ issuer, audience })
 * const token = await verifier.verify(bearer)
 * ```
 */
export interface Verifier {
  /**
   * Resolves to the verified token, or rejects with a {@link VerifyError} (or VerifierUnavailableError).
   * A DPoP-bound token is refused here: without its proof it is worth nothing (use {@link Verifier.verifyRequest}).
   */
  verify(token: string): Promise<VerifiedToken>
  /**
   * Verifies the credentials of a request: `Authorization: Bearer <token>`, or `Authorization: DPoP
   * <token>` with the `DPoP` proof made for this method and URL with the key the token is bound to.
   */
  verifyRequest(request: ResourceRequest): Promise<VerifiedToken>
  /** Reads the revocation feed now (changes since the last read); resolves when applied. */
  refreshRevocations(): Promise<void>
  /** Stops polling; later calls to `verify` reject. */
  close(): void
}
