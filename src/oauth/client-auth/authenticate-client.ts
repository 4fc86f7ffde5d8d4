import type { ClientCredential } from '../../domain/types.js'
import { isUuid } from '../../domain/validation.js'
import type { AuthThrottle } from '../auth-throttle.js'
import { ClientAuthenticationFailed, InvalidClient, TooManyAttempts } from '../errors.js'
import { authenticateWithSecret, type PresentedSecret, type SecretAuthDeps } from './client-secret.js'
import { authenticateWithAssertion, claimedClientId, type AssertionAuthDeps, type PresentedAssertion } from './private-key-jwt.js'

export type PresentedCredentials = PresentedSecret | PresentedAssertion

export interface ClientAuthDeps {
  readonly secrets: SecretAuthDeps
  readonly assertions: AssertionAuthDeps
  readonly throttle: AuthThrottle
  readonly sleep: (ms: number) => Promise<void>
  /** Notes a refusal for the audit log (batched; never a write on this path). */
  readonly refused: (refusal: { clientId: string; address: string; reason: string; accountId: string | null; detail?: string }) => void
}

/**
 * Client authentication behind the failure throttle. An address over its limit is refused
 * before any work. Otherwise the credentials are checked; correct ones always pass, and a
 * failure is counted first, then answered slowly, and with 429 once its address or client_id
 * is over its limit.
 */
export async function authenticateClient(deps: ClientAuthDeps, presented: PresentedCredentials, address: string): Promise<ClientCredential> {
  const claimed = presented.method === 'private_key_jwt' ? claimedClientId(presented) : presented.clientId
  const gate = deps.throttle.checkAddress(address)
  if (gate.action === 'refuse') {
    deps.refused({ clientId: claimed, address, reason: 'throttled', accountId: null })
    throw new TooManyAttempts('too many failed authentication attempts; retry later', gate.retryAfterSeconds, {
      detail: `throttled address ${address}`,
    })
  }
  try {
    return presented.method === 'private_key_jwt'
      ? await authenticateWithAssertion(deps.assertions, presented)
      : await authenticateWithSecret(deps.secrets, presented)
  } catch (err) {
    if (!(err instanceof InvalidClient)) throw err
    // Malformed ids share one counter: they cannot succeed, and must not fill memory one by one.
    // Unknown well-formed ids are counted like real ones, so a 429 says nothing about existence.
    const verdict = deps.throttle.recordFailure(isUuid(claimed) ? claimed : '(malformed)', address)
    const failed = err instanceof ClientAuthenticationFailed ? err : undefined
    const reason = failed?.reason ?? 'invalid_client'
    deps.refused({
      clientId: claimed, address, reason: verdict.action === 'refuse' ? 'throttled' : reason, accountId: failed?.accountId ?? null,
      ...(failed?.check === undefined ? {} : { detail: failed.check }),
    })
    if (verdict.delayMs > 0) await deps.sleep(verdict.delayMs)
    if (verdict.action === 'refuse') {
      throw new TooManyAttempts('too many failed authentication attempts; retry later', verdict.retryAfterSeconds, {
        detail: `${reason}; over the failure limit`, cause: err,
      })
    }
    throw err
  }
}
