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
 * Client authentication behind the failure throttle: refused attempts never reach the store,
 * failures are counted and answered slowly once an address or client_id keeps failing.
 */
export async function authenticateClient(deps: ClientAuthDeps, presented: PresentedCredentials, address: string): Promise<ClientCredential> {
  const claimed = presented.method === 'private_key_jwt' ? claimedClientId(presented) : presented.clientId
  // Malformed ids share one counter: they cannot succeed, and must not fill memory one by one.
  const clientKey = isUuid(claimed) ? claimed : '(malformed)'
  const verdict = deps.throttle.check(clientKey, address)
  if (verdict.action === 'refuse') {
    deps.refused({ clientId: clientKey, address, reason: 'throttled', accountId: null })
    throw new TooManyAttempts('too many failed authentication attempts; retry later', verdict.retryAfterSeconds, {
      detail: `throttled client ${clientKey} from ${address}`,
    })
  }
  try {
    const credential = presented.method === 'private_key_jwt'
      ? await authenticateWithAssertion(deps.assertions, presented)
      : await authenticateWithSecret(deps.secrets, presented)
    deps.throttle.recordSuccess(clientKey, address)
    return credential
  } catch (err) {
    if (err instanceof InvalidClient) {
      deps.throttle.recordFailure(clientKey, address)
      const failed = err instanceof ClientAuthenticationFailed ? err : undefined
      deps.refused({
        clientId: clientKey, address, reason: failed?.reason ?? 'invalid_client', accountId: failed?.accountId ?? null,
        ...(failed?.check === undefined ? {} : { detail: failed.check }),
      })
      if (verdict.delayMs > 0) await deps.sleep(verdict.delayMs)
    }
    throw err
  }
}
