import { createHash } from 'node:crypto'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose'
import type { ClientCredential, FederationPolicy, FederationPolicyId, KeyPairId, PublicJwk } from '../../domain/types.js'
import { policyMismatch, type PolicyMismatch } from './policy-match.js'

/** The external identity a keymint token carries in `act` (RFC 8693 §4.1). */
export interface WorkloadActor {
  readonly iss: string
  readonly sub: string
}

export interface WorkloadIdentity {
  /** The policy's client, with the policy standing in for a key pair (its id is the token's `client_id`). */
  readonly credential: ClientCredential
  readonly policy: FederationPolicy
  readonly actor: WorkloadActor
}

export interface WorkloadTokenDeps {
  readonly policiesForIssuer: (issuer: string) => Promise<FederationPolicy[]>
  /** The issuer's keys through discovery (cached), and again after a `kid` was not among them (rate-limited). */
  readonly issuerKeys: (issuer: string) => Promise<{ readonly keys: readonly PublicJwk[] }>
  readonly issuerKeysAfterUnknownKid: (issuer: string) => Promise<{ readonly keys: readonly PublicJwk[] }>
  readonly findCredential: (id: FederationPolicyId) => Promise<ClientCredential | undefined>
  /** False when this id was seen before: a replay. Shared by every instance (the database). */
  readonly rememberToken: (id: string, expiresAt: Date) => Promise<boolean>
  readonly now: () => Date
}

export type FederationRefusalReason =
  | 'federation_token_malformed' | 'federation_alg_not_allowed' | 'federation_issuer_untrusted' | 'federation_keys_unavailable'
  | 'federation_unknown_kid' | 'federation_signature_invalid' | 'federation_token_expired' | 'federation_token_not_yet_valid'
  | 'federation_token_replayed' | 'federation_client_disabled' | 'federation_ambiguous' | PolicyMismatch['reason']

/** A platform token refused, with why (for the audit log) and which policies it was held against. */
export class FederationRefused extends Error {
  override readonly name = 'FederationRefused'
  constructor(
    readonly reason: FederationRefusalReason,
    /** The policies the refusal concerns (their accounts see it in their audit logs), each with its own reason. */
    readonly concerned: readonly { readonly policy: FederationPolicy; readonly reason: FederationRefusalReason; readonly check?: string }[],
    readonly check?: string,
    opts: { cause?: unknown } = {},
  ) {
    super(`platform token refused: ${reason}${check === undefined ? '' : ` (${check})`}`, { cause: opts.cause })
  }
}

// Asymmetric only: `none` and HMAC (a shared secret, which an issuer cannot have with keymint) never pass.
export const WORKLOAD_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']
export const CLOCK_TOLERANCE_SECONDS = 30
export const MAX_WORKLOAD_TOKEN_LENGTH = 16_384

/** The unverified `iss` of a compact JWT, or undefined: to tell an external issuer's token from keymint's own assertions. */
export function unverifiedIssuer(token: string): string | undefined {
  try {
    const iss = decodeJwt(token).iss
    return typeof iss === 'string' ? iss : undefined
  } catch {
    return undefined
  }
}

type Verified = { payload: JWTPayload } | { failure: FederationRefusalReason; check?: string; cause?: unknown }

/** Which check of the signature and times failed, as a fixed code. */
function verifyFailure(err: unknown): { failure: FederationRefusalReason; check?: string; cause: unknown } {
  if (err instanceof errors.JWTExpired) return { failure: 'federation_token_expired', cause: err }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf' && err.reason === 'check_failed') return { failure: 'federation_token_not_yet_valid', check: 'nbf', cause: err }
    const claim = /^[a-z]{2,8}$/.test(err.claim) ? err.claim : 'claim'
    return { failure: 'federation_token_malformed', check: `${claim}_${err.reason === 'missing' ? 'missing' : 'invalid'}`, cause: err }
  }
  if (err instanceof errors.JWKSNoMatchingKey) return { failure: 'federation_unknown_kid', cause: err }
  if (err instanceof errors.JOSEAlgNotAllowed) return { failure: 'federation_alg_not_allowed', cause: err }
  if (err instanceof errors.JWSSignatureVerificationFailed) return { failure: 'federation_signature_invalid', cause: err }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return { failure: 'federation_token_malformed', cause: err }
  return { failure: 'federation_signature_invalid', check: 'key_unusable', cause: err }
}

async function verifyWith(token: string, keys: { readonly keys: readonly PublicJwk[] }, issuer: string, now: Date): Promise<Verified> {
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: keys.keys as never }), {
      algorithms: WORKLOAD_TOKEN_ALGORITHMS,
      issuer,
      currentDate: now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'iat', 'sub'],
    })
    // jose reads iat as a number but lets one from the future pass: an issuer never signs ahead.
    if (typeof payload.iat === 'number' && payload.iat > now.getTime() / 1000 + CLOCK_TOLERANCE_SECONDS) {
      return { failure: 'federation_token_not_yet_valid', check: 'iat_in_future' }
    }
    return { payload }
  } catch (err) {
    return verifyFailure(err)
  }
}

/** Verifies against discovered keys, fetching them again once if the token's `kid` is not among them. */
async function verifyDiscovered(deps: WorkloadTokenDeps, token: string, issuer: string, now: Date): Promise<Verified> {
  let keys
  try {
    keys = await deps.issuerKeys(issuer)
  } catch (err) {
    return { failure: 'federation_keys_unavailable', cause: err }
  }
  const first = await verifyWith(token, keys, issuer, now)
  if (!('failure' in first) || first.failure !== 'federation_unknown_kid') return first
  try {
    keys = await deps.issuerKeysAfterUnknownKid(issuer)
  } catch (err) {
    return { failure: 'federation_keys_unavailable', cause: err }
  }
  return verifyWith(token, keys, issuer, now)
}

// When several key sources fail differently, the most telling reason is reported.
const FAILURE_RANK: readonly FederationRefusalReason[] = [
  'federation_keys_unavailable', 'federation_unknown_kid', 'federation_signature_invalid', 'federation_token_malformed',
  'federation_token_not_yet_valid', 'federation_token_expired',
]

/** The replay store's id for a token: its `jti`, or for a token without one, its hash (each token then works once). */
function replayId(issuer: string, payload: JWTPayload, token: string): string {
  const which = typeof payload.jti === 'string' && payload.jti.length > 0 ? `jti:${payload.jti}` : `token:${createHash('sha256').update(token).digest('base64url')}`
  return `federation:${createHash('sha256').update(`${issuer}\n${which}`).digest('base64url')}`
}

/** What a platform token is checked for, and what must hold before its one use is spent. */
export interface WorkloadTokenInput {
  readonly token: string
  /** The request's `client_id`: confines the token to this policy. */
  readonly policyId?: string
  /**
   * Runs once the token is accepted, before its one use is spent: what it throws refuses the
   * request and leaves the token usable (a DPoP proof that is missing or lacks the server nonce).
   */
  readonly beforeUse?: (identity: WorkloadIdentity) => Promise<void>
}

/** The trust policies naming this issuer (confined to `policyId` when given). */
async function policiesNaming(deps: WorkloadTokenDeps, issuer: string, policyId: string | undefined): Promise<FederationPolicy[]> {
  const policies = await deps.policiesForIssuer(issuer)
  return policyId === undefined ? policies : policies.filter((p) => p.id === policyId)
}

/**
 * Verifies a platform token against the trust policies of its issuer and picks the one it
 * satisfies: signature with an asymmetric algorithm (keys from discovery or the policy's own
 * JWKS), `exp`, `nbf` and `iat`, then each policy's audience, subject, claims and maximum age.
 * `policyId` (the request's `client_id`) confines it to one policy. The token works once
 * (its `jti`, or its hash), and only for an enabled client.
 */
export async function verifyWorkloadToken(deps: WorkloadTokenDeps, input: WorkloadTokenInput): Promise<WorkloadIdentity> {
  const { token } = input
  if (token.length > MAX_WORKLOAD_TOKEN_LENGTH) throw new FederationRefused('federation_token_malformed', [], `longer_than_${MAX_WORKLOAD_TOKEN_LENGTH}`)
  let alg: unknown
  let iss: unknown
  try {
    alg = decodeProtectedHeader(token).alg
    iss = decodeJwt(token).iss
  } catch (err) {
    throw new FederationRefused('federation_token_malformed', [], 'not_a_jwt', { cause: err })
  }
  const issuer = typeof iss === 'string' && iss.length > 0 && iss.length <= 2048 ? iss : undefined
  // Before any key is fetched: `none` and HMAC are refused whoever the issuer claims to be. The
  // unverified `iss` only picks whose audit log hears of it (a policy of theirs names it).
  if (typeof alg !== 'string' || !WORKLOAD_TOKEN_ALGORITHMS.includes(alg)) {
    const check = typeof alg === 'string' && /^[A-Za-z0-9]{1,10}$/.test(alg) ? `alg_${alg}` : 'alg_invalid'
    const named = issuer === undefined ? [] : await policiesNaming(deps, issuer, input.policyId)
    throw new FederationRefused('federation_alg_not_allowed', named.map((policy) => ({ policy, reason: 'federation_alg_not_allowed', check })), check)
  }
  if (issuer === undefined) throw new FederationRefused('federation_token_malformed', [], 'iss_missing')
  const policies = await policiesNaming(deps, issuer, input.policyId)
  if (policies.length === 0) throw new FederationRefused('federation_issuer_untrusted', [])

  const now = deps.now()
  const verified = new Map<FederationPolicy, Verified>()
  const discovered = policies.filter((p) => p.jwks === null)
  if (discovered.length > 0) {
    const outcome = await verifyDiscovered(deps, token, issuer, now)
    for (const p of discovered) verified.set(p, outcome)
  }
  for (const p of policies) if (p.jwks !== null) verified.set(p, await verifyWith(token, p.jwks, issuer, now))

  const nowSeconds = now.getTime() / 1000
  const matched: FederationPolicy[] = []
  const refusals: { policy: FederationPolicy; reason: FederationRefusalReason; check?: string; stage: number; cause?: unknown }[] = []
  for (const [policy, outcome] of verified) {
    if ('failure' in outcome) {
      refusals.push({ policy, reason: outcome.failure, stage: -FAILURE_RANK.length + FAILURE_RANK.indexOf(outcome.failure), cause: outcome.cause, ...(outcome.check === undefined ? {} : { check: outcome.check }) })
      continue
    }
    const mismatch = policyMismatch(policy, outcome.payload, nowSeconds, CLOCK_TOLERANCE_SECONDS)
    if (mismatch === undefined) matched.push(policy)
    else refusals.push({ policy, reason: mismatch.reason, stage: mismatch.stage, ...(mismatch.check === undefined ? {} : { check: mismatch.check }) })
  }
  if (matched.length === 0) {
    const best = refusals.reduce((a, b) => (b.stage > a.stage ? b : a))
    throw new FederationRefused(best.reason, refusals, best.check, { cause: best.cause })
  }
  if (matched.length > 1) {
    throw new FederationRefused('federation_ambiguous', matched.map((policy) => ({ policy, reason: 'federation_ambiguous' })), `${matched.length}_policies_match`)
  }
  const policy = matched[0]!
  const payload = (verified.get(policy) as { payload: JWTPayload }).payload
  const refuse = (reason: FederationRefusalReason, check?: string): never => {
    throw new FederationRefused(reason, [{ policy, reason, ...(check === undefined ? {} : { check }) }], check)
  }
  const credential = await deps.findCredential(policy.id)
  if (!credential || credential.keyPair.revokedAt !== null) return refuse('federation_issuer_untrusted', 'policy_deleted')
  if (credential.client.disabled) return refuse('federation_client_disabled')
  const identity: WorkloadIdentity = {
    credential: { ...credential, keyPair: { ...credential.keyPair, id: policy.id as string as KeyPairId } }, policy, actor: { iss: issuer, sub: payload.sub as string },
  }
  if (input.beforeUse) await input.beforeUse(identity)
  // Last, once everything else holds: a refused token must not use up its one use.
  const exp = payload.exp as number
  if (!await deps.rememberToken(replayId(issuer, payload, token), new Date((exp + CLOCK_TOLERANCE_SECONDS) * 1000))) {
    return refuse('federation_token_replayed', typeof payload.jti === 'string' ? 'jti_seen_before' : 'token_seen_before')
  }
  return identity
}
