import { proofOfPossession, type DPoPBindingDeps } from '../dpop-binding.js'
import type { ProofTarget } from '../dpop-proof.js'
import { authenticateWorkload, type WorkloadAuthDeps, type WorkloadTokenRole } from '../federation/authenticate-workload.js'
import type { IssuedAccessToken } from '../mint-access-token.js'
import { checkClientCredentials, mintCheckedGrant, type CheckedGrant, type ClientCredentialsDeps, type ClientCredentialsRequest } from './client-credentials.js'

export interface WorkloadGrantDeps {
  readonly auth: WorkloadAuthDeps
  readonly grant: ClientCredentialsDeps
  readonly dpop: DPoPBindingDeps
}

export interface WorkloadGrantRequest {
  /** The platform token, and how it came (client assertion or subject token). */
  readonly token: string
  readonly role: WorkloadTokenRole
  /** `client_id`, naming the trust policy when more than one could accept the token. */
  readonly policyId?: string
  /** The `DPoP` header, and the request it must be made for. */
  readonly dpop: { readonly proof: string | undefined; readonly target: ProofTarget }
  /** The grant's request, but for the credential, the workload and the DPoP key, which come from the token and the proof. */
  readonly grant: Omit<ClientCredentialsRequest, 'credential' | 'actor' | 'dpopJkt'>
}

/**
 * A keymint access token for a platform token that a trust policy accepts, by either way in.
 * Everything that may refuse the request (the DPoP proof, RFC 9449 §5; the client's require-DPoP
 * setting, its limits, the resource, the scope) is checked before the platform token's one use
 * is spent, so a refused request may be sent again with the same token.
 */
export async function grantForWorkload(deps: WorkloadGrantDeps, req: WorkloadGrantRequest, address: string): Promise<IssuedAccessToken> {
  let granted: { request: ClientCredentialsRequest; checked: CheckedGrant } | undefined
  await authenticateWorkload(deps.auth, {
    token: req.token, role: req.role, ...(req.policyId === undefined ? {} : { policyId: req.policyId }),
    beforeUse: async ({ credential, actor }) => {
      const bound = await proofOfPossession(deps.dpop, { proof: req.dpop.proof, credential, target: req.dpop.target, address })
      const request: ClientCredentialsRequest = { ...req.grant, credential, actor, ...(bound === undefined ? {} : { dpopJkt: bound.jkt }) }
      granted = { request, checked: await checkClientCredentials(deps.grant, request) }
    },
  }, address)
  if (!granted) throw new Error('a platform token was accepted without the grant being checked')
  return mintCheckedGrant(deps.grant, granted.request, granted.checked)
}
