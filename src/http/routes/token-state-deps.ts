import type { RevocationFeed } from '../../domain/revocation-feed.js'
import type { AccountId } from '../../domain/types.js'
import type { ClientAuthDeps } from '../../oauth/client-auth/authenticate-client.js'
import type { TokenStateDeps } from '../../oauth/introspection.js'
import type { RevocationDeps } from '../../oauth/revocation.js'

/** What introspection, revocation and the revocation feed need: a client's authentication and the tokens' state. */
export interface TokenStateEndpointDeps {
  readonly auth: ClientAuthDeps
  readonly tokens: TokenStateDeps & RevocationDeps
  readonly feed: (accountId: AccountId, since: Date | undefined) => Promise<RevocationFeed>
}
