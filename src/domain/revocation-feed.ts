import type { Store } from './ports.js'
import type { AccountId, ClientId, KeyPairId, UserId } from './types.js'
import { MAX_LIFETIME_SECONDS } from './validation.js'

/** Entries are re-sent this far behind a cursor: instances' clocks and commit order differ. */
const OVERLAP_MS = 10_000
const MAX_LIFETIME_MS = MAX_LIFETIME_SECONDS * 1000

export interface RevocationFeed {
  /** Pass back as `since` for changes only. */
  readonly cursor: Date
  /** Revoked access tokens (by jti) and when they would have expired anyway. */
  readonly tokens: readonly { jti: string; exp: Date }[]
  /**
   * Key pairs whose tokens issued at or before `issuedBefore` must be refused until `exp`:
   * revoked pairs, ended grace periods, pairs of users who were disabled or lost `ui`/`api`, and
   * pairs of clients that were disabled. On the wire a key pair's id is the `client_id` its tokens carry.
   */
  readonly keyPairs: readonly { keyPairId: KeyPairId; issuedBefore: Date; exp: Date }[]
}

/**
 * What resource servers need to refuse revoked tokens without asking per request: the
 * account's revocations since `since` (everything still relevant without it).
 */
export async function revocationFeed(deps: { store: Store }, input: { accountId: AccountId; since: Date | undefined; now: Date }): Promise<RevocationFeed> {
  const now = input.now.getTime()
  const from = input.since ? new Date(input.since.getTime() - OVERLAP_MS) : new Date(now - MAX_LIFETIME_MS)
  const tokens = await deps.store.revokedTokens.listForAccount(input.accountId, from, input.now)
  const ended = await deps.store.keyPairs.listEndedForAccount(input.accountId, from, input.now)
  // Cut-offs stay listed after the user is enabled again: the tokens they ended stay ended.
  const users = await deps.store.users.listCutOffForAccount(input.accountId, from)
  const ofUsers = await deps.store.keyPairs.listLiveForUsers(users.map((u) => u.id), input.now)
  const changedAt = new Map(users.map((u) => [u.id, u.tokensCutOffAt]))
  // As for users, a client's cut-off outlives enabling it again. Only its pairs that existed then
  // can have issued tokens before it.
  const cutClients = await deps.store.clients.listCutOffForAccount(input.accountId, from)
  const ofClients = (await Promise.all(cutClients.map(async (c) =>
    (await deps.store.keyPairs.listByClient(c.id)).filter((k) => k.createdAt <= c.tokensCutOffAt).map((k) => ({ id: k.id, at: c.tokensCutOffAt }))))).flat()
  // Trust policies stand in for key pairs: their ids are the client_id of the tokens they led to.
  const policies = await policyEntries(deps.store, input.accountId, from, input.now, { users, cutClients })
  const keyPairs = [
    ...policies,
    ...ended.map((k) => ({ keyPairId: k.id, issuedBefore: k.endedAt, exp: new Date(k.endedAt.getTime() + MAX_LIFETIME_MS) })),
    ...ofUsers.map((k) => {
      const at = changedAt.get(k.userId) ?? input.now
      return { keyPairId: k.id, issuedBefore: at, exp: new Date(at.getTime() + MAX_LIFETIME_MS) }
    }),
    ...ofClients.map((k) => ({ keyPairId: k.id, issuedBefore: k.at, exp: new Date(k.at.getTime() + MAX_LIFETIME_MS) })),
  ].filter((c) => c.exp.getTime() > now)
  return { cursor: input.now, tokens: tokens.map((t) => ({ jti: t.jti, exp: t.expiresAt })), keyPairs }
}

/** Deleted trust policies, and those of clients and users cut off, as key pair entries. */
async function policyEntries(
  store: Store, accountId: AccountId, from: Date, now: Date,
  cut: { users: readonly { id: UserId; tokensCutOffAt: Date }[]; cutClients: readonly { id: ClientId; tokensCutOffAt: Date }[] },
): Promise<{ keyPairId: KeyPairId; issuedBefore: Date; exp: Date }[]> {
  const entry = (id: string, at: Date) => ({ keyPairId: id as KeyPairId, issuedBefore: at, exp: new Date(at.getTime() + MAX_LIFETIME_MS) })
  const ended = (await store.federationPolicies.listEndedForAccount(accountId, from, now)).map((p) => entry(p.id, p.endedAt))
  const cutAt = new Map(cut.cutClients.map((c) => [c.id, c.tokensCutOffAt]))
  const ofClients = (await store.federationPolicies.listByClients([...cutAt.keys()]))
    .flatMap((p) => {
      const at = cutAt.get(p.clientId)
      return at !== undefined && p.createdAt <= at ? [entry(p.id, at)] : []
    })
  const userCutAt = new Map(cut.users.map((u) => [u.id, u.tokensCutOffAt]))
  const ofUsers = (await store.federationPolicies.listLiveForUsers([...userCutAt.keys()])).map((p) => entry(p.id, userCutAt.get(p.userId) ?? now))
  return [...ended, ...ofClients, ...ofUsers]
}
