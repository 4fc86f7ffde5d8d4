import type { Config } from '../../config.js'
import type { ClientAuthDeps } from '../../oauth/client-auth/authenticate-client.js'
import type { WorkloadAuthDeps } from '../../oauth/federation/authenticate-workload.js'
import type { DPoPBindingDeps } from '../../oauth/dpop-binding.js'
import type { ClientCredentialsDeps } from '../../oauth/grants/client-credentials.js'

/** What both token dialects need: the same authentication and the same grant. */
export interface TokenEndpointDeps {
  readonly auth: ClientAuthDeps
  /** Platform tokens that trust policies accept (workload identity federation). */
  readonly workloads: WorkloadAuthDeps
  readonly grant: ClientCredentialsDeps
  /** RFC 9449 proofs at /oauth2/token. */
  readonly dpop: DPoPBindingDeps
  readonly tokens: Config['tokens']
  readonly issuer: () => string
  /** Counts a token issued by a dialect. */
  readonly issued: (dialect: 'header' | 'oauth2') => void
}

/** The `aud` of a token that names no registered API: the configured audience, else the issuer. */
export const audienceOf = (deps: TokenEndpointDeps): string => deps.tokens.audience ?? deps.issuer()
