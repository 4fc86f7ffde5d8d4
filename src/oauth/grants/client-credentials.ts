import type { EncryptionPublicKey } from '../../crypto/encryption-public-keys.js'
import type { CompactSigner, SigningAlg } from '../../crypto/jws.js'
import type { Clock } from '../../domain/ports.js'
import { isResourceIdentifier } from '../../domain/apis.js'
import type { AccountId, Api, ClientCredential, ClientLevel, KeyPairId, TokenEncryptionAlg } from '../../domain/types.js'
import { assertClientMayAct } from '../client-authorization.js'
import { hasLimits, refuseOverLimit, type ClientLimiter } from '../client-limits.js'
import { InvalidTarget, UnauthorizedClient } from '../errors.js'
import { mintAccessToken, type IssuedAccessToken } from '../mint-access-token.js'
import { grantScope } from '../scopes.js'

export interface ClientCredentialsDeps {
  /** The signer for an algorithm; null asks for the server's default. */
  readonly signerFor: (alg: SigningAlg | null) => Promise<Pick<CompactSigner, 'sign'>>
  readonly clock: Clock
  /** Notes a use of the key pair (batched: never a write per request). */
  readonly usage: { touch(id: KeyPairId, caller: TokenCaller): void }
  /** Counts the requests of clients with a rate limit or a quota. */
  readonly limits: ClientLimiter
  /** Turns a signed token into a nested JWE to keymint's own encryption key. */
  readonly encrypt: (jws: string, alg: TokenEncryptionAlg) => Promise<string>
  /** Turns a signed token into a nested JWE to a registered API's public key. */
  readonly encryptTo: (jws: string, key: EncryptionPublicKey) => Promise<string>
  /** The account's registered API with this identifier, if there is one. */
  readonly findApi: (accountId: AccountId, identifier: string) => Promise<Api | undefined>
}

/** Who asked, as the HTTP layer saw it: kept as the key pair's last use. */
export interface TokenCaller {
  /** The peer, or the client a trusted proxy names (KEYMINT_TRUST_PROXY). */
  readonly address: string
  /** The raw header, as sent; shortened when written. */
  readonly userAgent: string | undefined
}

export interface ClientCredentialsRequest {
  /** The already authenticated key pair. */
  readonly credential: ClientCredential
  readonly caller: TokenCaller
  /** Set by endpoints that serve one level only; `hint` names the endpoint for the other level. */
  readonly requiredLevel?: { readonly level: ClientLevel; readonly hint: string }
  readonly scope?: string
  /** Asked for by this request; a client set to always encrypt is encrypted regardless. */
  readonly encryption?: TokenEncryptionAlg | null
  readonly issuer: string
  /** RFC 8707 `resource` (or `audience`): one of the account's APIs, which becomes `aud`. */
  readonly resource?: string
  /** `aud` when no resource is asked for. */
  readonly audience: string
  readonly defaultLifetimeSeconds: number
  /** Also carry the scopes as an array claim `scopes`, as the first seed's tokens do. */
  readonly scopesArray?: boolean
  /** Set when a trust policy stands in for the key pair: the workload, carried as `act`. */
  readonly actor?: { readonly iss: string; readonly sub: string }
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to (`cnf.jkt`). */
  readonly dpopJkt?: string
}

async function registeredApi(deps: ClientCredentialsDeps, credential: ClientCredential, resource: string): Promise<Api> {
  if (!isResourceIdentifier(resource)) throw new InvalidTarget('resource must be an absolute URI without a fragment')
  const api = await deps.findApi(credential.client.accountId, resource)
  if (!api) throw new InvalidTarget('resource is not an API registered for this account')
  return api
}

/** What the grant's checks settled: the token's audience and scope, and the API it is for. */
export interface CheckedGrant {
  readonly api: Api | undefined
  readonly audience: string
  readonly scope: string
}

/**
 * Everything that may refuse the request, before anything is spent: the level, the client's
 * state, DPoP, its limits, the resource and the scope. Separate from minting so that a platform
 * token's one use is spent only once nothing else can refuse it (grantTokenExchange).
 */
export async function checkClientCredentials(deps: ClientCredentialsDeps, req: ClientCredentialsRequest): Promise<CheckedGrant> {
  const { credential } = req
  const { client } = credential
  if (req.requiredLevel && client.level !== req.requiredLevel.level) {
    throw new UnauthorizedClient(`this is a ${client.level}-level client: ${req.requiredLevel.hint}`)
  }
  assertClientMayAct(credential)
  // The header dialect carries no proof: such a client's tokens come from /oauth2/token alone.
  if (client.requireDPoP && req.dpopJkt === undefined) {
    throw new UnauthorizedClient('this client gets DPoP-bound tokens only: request them from POST /oauth2/token with a DPoP proof (RFC 9449)')
  }
  // Before any further work: a refused request should cost little. Clients without limits skip it;
  // a verdict from memory is not awaited (only a quota's first use on an instance reads the store).
  if (hasLimits(client)) {
    const verdict = deps.limits.admit(credential)
    const refusal = verdict instanceof Promise ? await verdict : verdict
    if (refusal) refuseOverLimit(client, refusal)
  }
  // resource=<issuer> names keymint's own API, for when the default audience is another one.
  const api = req.resource === undefined || req.resource === req.issuer ? undefined : await registeredApi(deps, credential, req.resource)
  const audience = api?.identifier ?? req.resource ?? req.audience
  const scope = grantScope(credential, req.scope, { isKeymint: audience === req.issuer })
  return { api, audience, scope }
}

/** The access token for a request its checks allowed. */
export async function mintCheckedGrant(deps: ClientCredentialsDeps, req: ClientCredentialsRequest, checked: CheckedGrant): Promise<IssuedAccessToken> {
  const { credential } = req
  const { client } = credential
  const { api } = checked
  const signer = await deps.signerFor(client.signingAlg)
  const token = mintAccessToken({ signer, clock: deps.clock }, {
    credential,
    scope: checked.scope,
    issuer: req.issuer,
    audience: checked.audience,
    lifetimeSeconds: client.lifetimeSeconds ?? req.defaultLifetimeSeconds,
    scopesArray: req.scopesArray === true,
    ...(req.actor === undefined ? {} : { actor: req.actor }),
    ...(req.dpopJkt === undefined ? {} : { dpopJkt: req.dpopJkt }),
  })
  // Usage is counted per key pair; a trust policy has none.
  if (req.actor === undefined) deps.usage.touch(credential.keyPair.id, req.caller)
  // An API with a key of its own reads its tokens with that key alone: keymint's encryption key
  // (asked for with `encrypted=`, or set on the client) would make it need keymint's private key.
  if (api?.encryption) return { ...token, accessToken: await deps.encryptTo(token.accessToken, api.encryption) }
  const encryption = req.encryption ?? client.tokenEncryption
  if (!encryption) return token
  return { ...token, accessToken: await deps.encrypt(token.accessToken, encryption) }
}

/**
 * RFC 6749 §4.4: the client credentials grant, shared by both dialects. Authorization rules
 * come from DESIGN §1; the dialects differ only in how they read credentials and answer.
 */
export async function grantClientCredentials(deps: ClientCredentialsDeps, req: ClientCredentialsRequest): Promise<IssuedAccessToken> {
  return mintCheckedGrant(deps, req, await checkClientCredentials(deps, req))
}
