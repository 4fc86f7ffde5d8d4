import { randomUUID } from 'node:crypto'
import type { CompactSigner } from '../crypto/jws.js'
import type { Clock } from '../domain/ports.js'
import type { ClientCredential } from '../domain/types.js'

export interface IssuedAccessToken {
  readonly accessToken: string
  readonly jti: string
  readonly expiresIn: number
  readonly scope: string
  /** RFC 9449: `DPoP` when the token is bound to a key, else `Bearer`. */
  readonly tokenType: 'Bearer' | 'DPoP'
}

/** RFC 9068 access token: the one minting path for every endpoint. */
export function mintAccessToken(
  deps: { signer: Pick<CompactSigner, 'sign'>; clock: Clock },
  input: {
    credential: ClientCredential; scope: string; issuer: string; audience: string; lifetimeSeconds: number; scopesArray?: boolean
    /** The external workload acting as the client (workload identity federation). */
    actor?: { readonly iss: string; readonly sub: string }
    /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to. */
    dpopJkt?: string
  },
): IssuedAccessToken {
  const { client, keyPair, user } = input.credential
  const iat = Math.floor(deps.clock.now().getTime() / 1000)
  const jti = randomUUID()
  const claims: Record<string, unknown> = {
    iss: input.issuer,
    // RFC 9068 §2.2: the resource owner when there is one, else the client itself.
    sub: user ? user.id : client.id,
    aud: input.audience,
    exp: iat + input.lifetimeSeconds,
    iat,
    jti,
    client_id: keyPair.id,
    scope: input.scope,
  }
  // The first seed's tokens list them as an array; APIs written against that format read it.
  if (input.scopesArray) claims.scopes = input.scope.split(' ')
  claims.account_id = client.accountId
  claims.client_level = client.level
  // RFC 8693 §4.1: the party acting, here the workload whose platform token a trust policy accepted.
  if (input.actor) claims.act = { iss: input.actor.iss, sub: input.actor.sub }
  // RFC 9449 §6.1: bound to the key the client proved it holds.
  if (input.dpopJkt !== undefined) claims.cnf = { jkt: input.dpopJkt }
  const accessToken = deps.signer.sign(claims)
  return { accessToken, jti, expiresIn: input.lifetimeSeconds, scope: input.scope, tokenType: input.dpopJkt === undefined ? 'Bearer' : 'DPoP' }
}
