import type { AuthThrottle } from '../auth-throttle.js'
import { InvalidClient, InvalidRequest, TemporarilyUnavailable, TooManyAttempts, type OAuthError } from '../errors.js'
import { FederationRefused, verifyWorkloadToken, type WorkloadIdentity, type WorkloadTokenDeps, type WorkloadTokenInput } from './workload-token.js'

export interface WorkloadAuthDeps {
  readonly tokens: WorkloadTokenDeps
  readonly throttle: AuthThrottle
  readonly sleep: (ms: number) => Promise<void>
  /** Notes a refusal for the audit log (batched). */
  readonly refused: (refusal: { clientId: string; address: string; reason: string; accountId: string | null; detail?: string }) => void
}

/**
 * How the platform token came: as the client assertion (RFC 7523 §2.2, refused with
 * `invalid_client`) or as the subject token of a token exchange (RFC 8693 §2.2.2: an invalid or
 * unacceptable subject_token is `invalid_request`).
 */
export type WorkloadTokenRole = 'client_assertion' | 'subject_token'

// Refusals of one token held against many policies are written for this many at most.
const MAX_REFUSALS_RECORDED = 20
// The issuer is out of reach: the client may try again soon.
const KEYS_RETRY_AFTER_SECONDS = 30

function answerFor(err: FederationRefused, role: WorkloadTokenRole): OAuthError {
  const detail = `${err.reason}${err.check === undefined ? '' : `: ${err.check}`}`
  if (err.reason === 'federation_keys_unavailable') {
    return new TemporarilyUnavailable("the issuer's signing keys cannot be fetched now; retry shortly", KEYS_RETRY_AFTER_SECONDS, { detail, cause: err })
  }
  if (err.reason === 'federation_ambiguous') {
    return new InvalidRequest('more than one trust policy accepts this token: send client_id set to the id of the policy to use', { detail, cause: err })
  }
  // The caller learns that the token was refused, not which check failed: that is in the account's audit log.
  return role === 'client_assertion'
    ? new InvalidClient('client authentication failed', { detail, cause: err })
    : new InvalidRequest('the subject_token was refused', { detail, cause: err })
}

/**
 * A platform token, behind the same failure throttle as client authentication: an address over
 * its limit is refused first; a refused token is counted (per policy, or in one shared bucket
 * when no policy was concerned), written to the audit log of every account whose policy it was
 * held against, and answered slowly, then with 429.
 */
export async function authenticateWorkload(deps: WorkloadAuthDeps, input: WorkloadTokenInput & { role: WorkloadTokenRole }, address: string): Promise<WorkloadIdentity> {
  const gate = deps.throttle.checkAddress(address)
  if (gate.action === 'refuse') {
    deps.refused({ clientId: input.policyId ?? '', address, reason: 'throttled', accountId: null })
    throw new TooManyAttempts('too many failed authentication attempts; retry later', gate.retryAfterSeconds, { detail: `throttled address ${address}` })
  }
  try {
    return await verifyWorkloadToken(deps.tokens, input)
  } catch (err) {
    // What `beforeUse` refused (a DPoP proof) is no failed authentication: it passes as thrown.
    if (!(err instanceof FederationRefused)) throw err
    const concerned = err.concerned.slice(0, MAX_REFUSALS_RECORDED)
    for (const c of concerned) {
      deps.refused({ clientId: c.policy.id, address, reason: c.reason, accountId: c.policy.accountId, ...(c.check === undefined ? {} : { detail: c.check }) })
    }
    if (concerned.length === 0) deps.refused({ clientId: input.policyId ?? '', address, reason: err.reason, accountId: null, ...(err.check === undefined ? {} : { detail: err.check }) })
    // An unreachable issuer is nobody's failed attempt.
    if (err.reason === 'federation_keys_unavailable') throw answerFor(err, input.role)
    const verdict = deps.throttle.recordFailure(concerned.length === 1 ? concerned[0]!.policy.id : '(federation)', address)
    if (verdict.delayMs > 0) await deps.sleep(verdict.delayMs)
    if (verdict.action === 'refuse') {
      throw new TooManyAttempts('too many failed authentication attempts; retry later', verdict.retryAfterSeconds, { detail: `${err.reason}; over the failure limit`, cause: err })
    }
    throw answerFor(err, input.role)
  }
}
