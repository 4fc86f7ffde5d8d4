import type { ProofTarget } from '../dpop-proof.js'
import { InvalidRequest } from '../errors.js'
import type { IssuedAccessToken } from '../mint-access-token.js'
import type { ClientCredentialsRequest } from './client-credentials.js'
import { grantForWorkload, type WorkloadGrantDeps } from './workload-grant.js'

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'
/** RFC 8693 §3: what keymint issues. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token' as const
/** RFC 8693 §3: the platform tokens it takes, all of them JWTs. */
export const SUBJECT_TOKEN_TYPES = ['urn:ietf:params:oauth:token-type:jwt', 'urn:ietf:params:oauth:token-type:id_token'] as const
const REQUESTABLE_TOKEN_TYPES: readonly string[] = [ACCESS_TOKEN_TYPE, 'urn:ietf:params:oauth:token-type:jwt']

export interface TokenExchangeRequest extends Omit<ClientCredentialsRequest, 'credential' | 'actor' | 'requiredLevel' | 'encryption' | 'scopesArray' | 'dpopJkt'> {
  readonly subjectToken: string | undefined
  readonly subjectTokenType: string | undefined
  readonly actorToken: string | undefined
  readonly requestedTokenType: string | undefined
  /** The request's `client_id`: the trust policy to use, when several would accept the token. */
  readonly policyId: string | undefined
  /** RFC 9449: the request's `DPoP` header, if any, and the request it must be made for. */
  readonly dpop: { readonly proof: string | undefined; readonly target: ProofTarget }
}

/**
 * RFC 8693 token exchange for workload identity federation: a platform token (GitHub Actions,
 * a Kubernetes service account, any OIDC issuer) that a trust policy accepts is exchanged for
 * an access token of the policy's client, issued exactly as for its key pairs, with the
 * workload in `act`. No client authentication: the subject token is the credential.
 */
export async function grantTokenExchange(
  deps: WorkloadGrantDeps,
  req: TokenExchangeRequest,
  address: string,
): Promise<IssuedAccessToken> {
  if (!req.subjectToken) throw new InvalidRequest('subject_token is required')
  if (req.subjectTokenType === undefined) throw new InvalidRequest('subject_token_type is required')
  if (!(SUBJECT_TOKEN_TYPES as readonly string[]).includes(req.subjectTokenType)) {
    throw new InvalidRequest(`subject_token_type must be ${SUBJECT_TOKEN_TYPES.join(' or ')}`)
  }
  // §2.1: delegation (an actor token) is for exchanges keymint does not offer.
  if (req.actorToken !== undefined) throw new InvalidRequest('actor_token is not supported')
  if (req.requestedTokenType !== undefined && !REQUESTABLE_TOKEN_TYPES.includes(req.requestedTokenType)) {
    throw new InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`)
  }
  return grantForWorkload(deps, {
    token: req.subjectToken, role: 'subject_token', ...(req.policyId === undefined ? {} : { policyId: req.policyId }),
    dpop: req.dpop,
    grant: {
      issuer: req.issuer,
      audience: req.audience,
      defaultLifetimeSeconds: req.defaultLifetimeSeconds,
      caller: req.caller,
      ...(req.scope === undefined ? {} : { scope: req.scope }),
      ...(req.resource === undefined ? {} : { resource: req.resource }),
    },
  }, address)
}
