import { VerifierUnavailableError } from './errors.js'
import { getJson } from './http.js'
import type { FetchLike } from './types.js'

/**
 * One answer of `GET /oauth2/revocations`, in seconds since the epoch.
 *
 * @internal
 */
export interface FeedPage {
  readonly cursor: string
  /** Revoked access tokens, until they would have expired anyway. */
  readonly tokens: readonly { readonly jti: string; readonly exp: number }[]
  /**
   * Key pairs whose tokens must be refused until `exp`: those issued at or before
   * `issuedBefore`, or all of them when the server does not say.
   */
  readonly clients: readonly { readonly clientId: string; readonly issuedBefore: number | undefined; readonly exp: number }[]
}

// RFC 6749 §2.3.1: client_id and client_secret are form-urlencoded before Basic encoding
// (which leaves ASCII, so btoa is safe).
const formEncode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1)

const basic = (clientId: string, clientSecret: string) =>
  `Basic ${btoa(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isSeconds = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

function malformed(what: string): never {
  // Skipping an entry could silently accept a revoked token: refuse the whole page instead.
  throw new VerifierUnavailableError(`keymint/verify: the revocation feed sent ${what}`)
}

function parsePage(body: unknown): FeedPage {
  if (!isRecord(body) || typeof body.cursor !== 'string' || !Array.isArray(body.tokens) || !Array.isArray(body.clients)) malformed('an unexpected document')
  const tokens = body.tokens.map((t: unknown) => {
    if (!isRecord(t) || typeof t.jti !== 'string' || !isSeconds(t.exp)) malformed('a malformed token entry')
    return { jti: t.jti, exp: t.exp }
  })
  const clients = body.clients.map((c: unknown) => {
    if (!isRecord(c) || typeof c.client_id !== 'string' || !isSeconds(c.exp)) malformed('a malformed client entry')
    if (c.issued_before !== undefined && !isSeconds(c.issued_before)) malformed('a malformed client entry')
    return { clientId: c.client_id, issuedBefore: c.issued_before, exp: c.exp }
  })
  return { cursor: body.cursor, tokens, clients }
}

/**
 * Reads the revocation feed: everything still relevant without a cursor, changes since it with one.
 *
 * @param input - issuer, feed credentials, the last cursor and the fetch to use
 * @internal
 */
export async function readRevocationFeed(input: {
  readonly issuer: string
  readonly clientId: string
  readonly clientSecret: string
  readonly cursor: string | undefined
  readonly fetch: FetchLike
}): Promise<FeedPage> {
  const url = new URL(`${input.issuer.replace(/\/+$/, '')}/oauth2/revocations`)
  if (input.cursor !== undefined) url.searchParams.set('cursor', input.cursor)
  return parsePage(await getJson(input.fetch, url.href, { authorization: basic(input.clientId, input.clientSecret) }))
}
