import { jwtVerify } from 'jose'
import { pinAlgorithms } from './algorithms.js'
import { credentialsOf } from './bearer.js'
import { REQUIRED_CLAIMS, scopesOf, toAccessTokenClaims } from './claims.js'
import { checkResourceProof, resolveDPoPChecks } from './dpop.js'
import { VerifierUnavailableError, VerifyError } from './errors.js'
import { createKeySource } from './key-source.js'
import { openNestedJwt, prepareDecryptionKey } from './nested-jwe.js'
import { toRefusal } from './refusal.js'
import { createRevocationList } from './revocations.js'
import type { VerifiedToken, Verifier, VerifierOptions } from './types.js'

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30
/** Far above any keymint token (a nested JWE is about 2 KiB): refuse before parsing. */
const MAX_TOKEN_LENGTH = 16_384
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/
const COMPACT_JWE = /^[\w-]+\.[\w-]*\.[\w-]+\.[\w-]+\.[\w-]+$/

const malformed = () => new VerifyError('invalid_token', 'token is malformed')

/** RFC 9449 §6.1: the key a token is bound to, if it is. */
const boundKeyOf = (token: VerifiedToken): string | undefined => typeof token.claims.cnf?.jkt === 'string' ? token.claims.cnf.jkt : undefined

/** The one `DPoP` header of a request, or invalid_dpop_proof. */
function singleProof(value: string | readonly string[] | undefined, algs: readonly string[]): string {
  const refuse = (description: string) => new VerifyError('invalid_dpop_proof', description, { scheme: 'DPoP', algs })
  if (value === undefined) throw refuse('a DPoP proof is required with a DPoP-bound token')
  // Node folds repeated headers into one, separated by commas, which no proof contains.
  const proofs = typeof value === 'string' ? value.split(',') : value.flatMap((v) => v.split(','))
  if (proofs.length !== 1 || proofs[0] === undefined) throw refuse('send exactly one DPoP proof')
  return proofs[0].trim()
}

/** The audiences to accept, checked once at construction so a misconfiguration fails at start. */
function audiencesOf(value: unknown): string[] {
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : []
  if (list.length === 0 || list.some((a) => typeof a !== 'string' || a === '')) {
    throw new TypeError("keymint/verify: audience must be given: the `aud` this API accepts (its registered identifier, or the issuer's default audience), a string or a non-empty array of strings")
  }
  return list as string[]
}

/**
 * Creates a verifier for keymint access tokens: signature against the issuer's JWKS (found through
 * its RFC 8414 metadata), `iss`, `aud`, `exp`/`nbf`, `typ: at+jwt`, pinned algorithms, nested JWE,
 * and optionally the token's account and the server's revocation feed.
 *
 * @param options - issuer, audience and the optional checks
 * @example
 * ```ts
 * const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' })
 * const token = await verifier.verify(bearer)
 * requireScopes(token, 'reports:read')
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  if (typeof options.issuer !== 'string' || !URL.canParse(options.issuer)) throw new TypeError('keymint/verify: issuer must be a URL')
  const audience = audiencesOf(options.audience)
  const { accountId } = options
  if (accountId !== undefined && (typeof accountId !== 'string' || accountId === '')) {
    throw new TypeError('keymint/verify: accountId must be a non-empty string (the account_id of the tokens to accept) or left out')
  }
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new TypeError('keymint/verify: clockToleranceSeconds must be a non-negative number')
  const algorithms = pinAlgorithms(options.algorithms)
  const dpop = resolveDPoPChecks(options.dpop)
  const decryptionKey = prepareDecryptionKey(options.decryptionKey)
  const fetchImpl = options.fetch ?? ((url, init) => fetch(url, init))
  const now = options.now ?? (() => new Date())
  const keys = createKeySource(options.issuer, fetchImpl)
  const revocations = options.revocation === undefined ? undefined : createRevocationList({
    issuer: options.issuer, options: options.revocation, fetch: fetchImpl, now, toleranceSeconds: tolerance,
  })
  let closed = false

  async function verifySignedToken(token: string): Promise<VerifiedToken> {
    let jws = token
    const encrypted = COMPACT_JWE.test(token)
    if (encrypted) jws = await openNestedJwt(token, decryptionKey)
    if (!COMPACT_JWS.test(jws)) throw malformed()
    const { payload, protectedHeader } = await jwtVerify(jws, keys, {
      issuer: options.issuer,
      audience,
      algorithms,
      // RFC 9068 §4: resource servers MUST check typ, which keeps ID tokens and other JWTs out.
      typ: 'at+jwt',
      clockTolerance: tolerance,
      currentDate: now(),
      requiredClaims: REQUIRED_CLAIMS,
    })
    const claims = toAccessTokenClaims(payload)
    if (accountId !== undefined && claims.account_id !== accountId) {
      throw new VerifyError('invalid_token', 'token was issued to another account', { detail: `account_id ${claims.account_id}, expected ${accountId}` })
    }
    return { claims, scopes: scopesOf(claims), header: protectedHeader, encrypted }
  }

  /** Every check of the token itself, whatever scheme it came in. */
  async function verifyToken(token: string): Promise<VerifiedToken> {
    if (closed) throw new VerifierUnavailableError('keymint/verify: the verifier is closed')
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw malformed()
    let verified: VerifiedToken
    try {
      verified = await verifySignedToken(token)
    } catch (err) {
      throw toRefusal(err)
    }
    if (revocations) {
      await revocations.ready()
      if (revocations.isRevoked(verified.claims)) {
        throw new VerifyError('invalid_token', 'token has been revoked', { detail: `jti ${verified.claims.jti} of client ${verified.claims.client_id} is revoked` })
      }
    }
    return verified
  }

  /** RFC 9449 §7.2: a bound token presented as a bearer token is refused, in the DPoP scheme. */
  function refuseBound(verified: VerifiedToken): VerifiedToken {
    if (boundKeyOf(verified) === undefined) return verified
    throw new VerifyError('invalid_token', 'token is DPoP-bound: present it as Authorization: DPoP with a DPoP proof', { scheme: 'DPoP', algs: dpop.algorithms })
  }

  return {
    async verify(token) {
      return refuseBound(await verifyToken(token))
    },
    async verifyRequest(request) {
      const { scheme, token } = credentialsOf(request.authorization)
      if (scheme === 'Bearer') return refuseBound(await verifyToken(token))
      let verified: VerifiedToken
      try {
        verified = await verifyToken(token)
      } catch (err) {
        // Refusals of a token that came in the DPoP scheme are challenged in it.
        if (err instanceof VerifyError) throw new VerifyError(err.code, err.message, { detail: err.detail, scheme: 'DPoP', algs: dpop.algorithms, cause: err })
        throw err
      }
      const jkt = boundKeyOf(verified)
      if (jkt === undefined) throw new VerifyError('invalid_token', 'token is not DPoP-bound: present it as a bearer token', { scheme: 'DPoP', algs: dpop.algorithms })
      await checkResourceProof(dpop, singleProof(request.dpop, dpop.algorithms), { method: request.method, url: request.url, accessToken: token, jkt }, now())
      return { ...verified, jkt }
    },
    async refreshRevocations() {
      if (closed) throw new VerifierUnavailableError('keymint/verify: the verifier is closed')
      if (!revocations) throw new TypeError('keymint/verify: no revocation option was given')
      await revocations.refresh()
    },
    close() {
      closed = true
      revocations?.close()
    },
  }
}
