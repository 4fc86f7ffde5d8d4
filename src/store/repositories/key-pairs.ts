import type { ExpressionBuilder, Kysely } from 'kysely'
import type { ExpiryHorizon, KeyPairStore } from '../../domain/ports.js'
import type { AccountId, ClientId, KeyPairId, Permission, Plan, Role, UserId } from '../../domain/types.js'
import { toDate, toDateOrNull } from '../errors.js'
import type { Database } from '../schema.js'
import { toClient } from './clients.js'

/** A pair still works at `now` (ms): not revoked, not past a grace's end, not past its lifetime. */
function liveAt(eb: ExpressionBuilder<Database, 'key_pairs'>, now: number) {
  return eb.and([
    eb('revoked_at', 'is', null),
    eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]),
    eb.or([eb('lifetime_ends_at', 'is', null), eb('lifetime_ends_at', '>', now)]),
  ])
}

/** Same, for queries that join key pairs as `k`. */
function liveAtAsK(eb: ExpressionBuilder<Database & { k: Database['key_pairs'] }, 'k'>, now: number) {
  return eb.and([
    eb('k.revoked_at', 'is', null),
    eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', now)]),
    eb.or([eb('k.lifetime_ends_at', 'is', null), eb('k.lifetime_ends_at', '>', now)]),
  ])
}

/** The token path's one lookup, built and compiled once; only the id changes per call. */
function credentialQuery(db: Kysely<Database>) {
  return db.selectFrom('key_pairs as k')
    .innerJoin('clients as c', 'c.id', 'k.client_id')
    .innerJoin('accounts as a', 'a.id', 'c.account_id')
    .leftJoin('users as u', 'u.id', 'c.user_id')
    .select([
      'k.id as key_id', 'k.secret_hash', 'k.expires_at', 'k.revoked_at', 'k.lifetime_ends_at',
      'c.id', 'c.account_id', 'c.name', 'c.level', 'c.user_id', 'c.scopes', 'c.lifetime_seconds', 'c.token_encryption', 'c.public_jwk', 'c.signing_alg', 'c.secret_auth', 'c.require_dpop', 'c.created_at',
      'c.disabled', 'c.tokens_cut_off_at', 'c.rate_limit', 'c.rate_limit_per', 'c.quota', 'c.quota_per', 'c.quota_mode',
      'a.plan',
      'u.role as user_role', 'u.permissions as user_permissions', 'u.scopes as user_scopes', 'u.disabled as user_disabled',
      'u.tokens_cut_off_at as user_tokens_cut_off_at',
    ])
    .where('k.id', '=', '')
    // A deleted client's key pairs were revoked first; they are unknown from then on.
    .where('c.deleted_at', 'is', null)
}

type CredentialRow = Awaited<ReturnType<ReturnType<typeof credentialQuery>['executeTakeFirstOrThrow']>>

export function createKeyPairRepository(db: Kysely<Database>): KeyPairStore {
  const compiledCredentialQuery = credentialQuery(db).compile()
  return {
    async insert(pair) {
      await db.insertInto('key_pairs').values({
        id: pair.id,
        client_id: pair.clientId,
        secret_hash: pair.secretHash,
        hash_key_id: pair.hashKeyId,
        created_at: pair.createdAt.getTime(),
        expires_at: pair.expiresAt?.getTime() ?? null,
        revoked_at: pair.revokedAt?.getTime() ?? null,
        lifetime_ends_at: pair.lifetimeEndsAt?.getTime() ?? null,
        last_used_at: null,
      }).execute()
    },

    async listByClient(clientId) {
      const rows = await db.selectFrom('key_pairs')
        .select(['id', 'client_id', 'created_at', 'expires_at', 'revoked_at', 'lifetime_ends_at', 'last_used_at', 'last_used_address', 'last_used_user_agent', 'tokens_issued'])
        .where('client_id', '=', clientId)
        .orderBy('created_at', 'desc').orderBy('id')
        .execute()
      return rows.map((r) => ({
        id: r.id as KeyPairId,
        clientId: r.client_id as ClientId,
        createdAt: toDate(r.created_at),
        expiresAt: toDateOrNull(r.expires_at),
        revokedAt: toDateOrNull(r.revoked_at),
        lifetimeEndsAt: toDateOrNull(r.lifetime_ends_at),
        lastUsedAt: toDateOrNull(r.last_used_at),
        lastUsedAddress: r.last_used_address,
        lastUsedUserAgent: r.last_used_user_agent,
        tokensIssued: Number(r.tokens_issued),
      }))
    },

    async endLive(clientId, at, expiresAt) {
      const now = at.getTime()
      const live = await db.selectFrom('key_pairs').select(['id', 'expires_at'])
        .where('client_id', '=', clientId)
        .where((eb) => liveAt(eb, now))
        .execute()
      if (live.length === 0) return []
      const ids = live.map((r) => r.id)
      if (expiresAt === null) {
        await db.updateTable('key_pairs').set({ revoked_at: now }).where('id', 'in', ids).execute()
        return ids.map((id) => ({ id: id as KeyPairId, endsAt: at }))
      }
      // A pair already in a shorter grace keeps its earlier end.
      const end = expiresAt.getTime()
      await db.updateTable('key_pairs').set({ expires_at: end })
        .where('id', 'in', ids)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', end)]))
        .execute()
      return live.map((r) => ({
        id: r.id as KeyPairId,
        endsAt: new Date(r.expires_at === null ? end : Math.min(Number(r.expires_at), end)),
      }))
    },

    async revokeOne(clientId, id, at) {
      const now = at.getTime()
      const result = await db.updateTable('key_pairs').set({ revoked_at: now })
        .where('id', '=', id)
        .where('client_id', '=', clientId)
        .where((eb) => liveAt(eb, now))
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },

    async clearGrace(clientId, id, at) {
      const result = await db.updateTable('key_pairs').set({ expires_at: null })
        .where('id', '=', id)
        .where('client_id', '=', clientId)
        .where((eb) => liveAt(eb, at.getTime()))
        .where('expires_at', 'is not', null)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },

    async findCredential(id) {
      const { rows } = await db.executeQuery<CredentialRow>({ ...compiledCredentialQuery, parameters: [id] })
      const row = rows[0]
      if (!row) return undefined
      return {
        keyPair: {
          id: row.key_id as KeyPairId,
          secretHash: Buffer.from(row.secret_hash),
          expiresAt: toDateOrNull(row.expires_at),
          revokedAt: toDateOrNull(row.revoked_at),
          lifetimeEndsAt: toDateOrNull(row.lifetime_ends_at),
        },
        client: toClient(row),
        accountPlan: row.plan as Plan,
        user: row.user_id === null || row.user_permissions === null
          ? null
          : {
              id: row.user_id as never,
              permissions: JSON.parse(row.user_permissions) as Permission[],
              scopes: JSON.parse(row.user_scopes ?? '[]') as string[],
              disabled: row.user_disabled === 1,
              role: row.user_role as Role,
              tokensCutOffAt: toDateOrNull(row.user_tokens_cut_off_at),
            },
      }
    },

    async listEndedForAccount(accountId, since, now) {
      const [from, to] = [since.getTime(), now.getTime()]
      const rows = await db.selectFrom('key_pairs as k')
        .innerJoin('clients as c', 'c.id', 'k.client_id')
        .select(['k.id', 'k.revoked_at', 'k.expires_at', 'k.lifetime_ends_at'])
        .where('c.account_id', '=', accountId)
        .where((eb) => eb.or([
          eb.and([eb('k.revoked_at', '>', from), eb('k.revoked_at', '<=', to)]),
          eb.and([eb('k.revoked_at', 'is', null), eb('k.expires_at', '>', from), eb('k.expires_at', '<=', to)]),
          // Expired: nothing ended it before its lifetime did.
          eb.and([
            eb('k.lifetime_ends_at', '>', from), eb('k.lifetime_ends_at', '<=', to),
            eb.or([eb('k.revoked_at', 'is', null), eb('k.revoked_at', '>', eb.ref('k.lifetime_ends_at'))]),
            eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', eb.ref('k.lifetime_ends_at'))]),
          ]),
        ]))
        .execute()
      return rows.map((r) => ({ id: r.id as KeyPairId, endedAt: toDate(Math.min(r.revoked_at ?? Infinity, r.expires_at ?? Infinity, r.lifetime_ends_at ?? Infinity)) }))
    },

    async listLiveForUsers(userIds, now) {
      if (userIds.length === 0) return []
      const ms = now.getTime()
      const rows = await db.selectFrom('key_pairs as k')
        .innerJoin('clients as c', 'c.id', 'k.client_id')
        .select(['k.id', 'c.user_id'])
        .where('c.user_id', 'in', [...userIds])
        .where((eb) => liveAtAsK(eb, ms))
        .execute()
      return rows.map((r) => ({ id: r.id as KeyPairId, userId: r.user_id as UserId }))
    },

    async replaceSecretHash(id, hash, hashKeyId) {
      await db.updateTable('key_pairs').set({ secret_hash: hash, hash_key_id: hashKeyId }).where('id', '=', id).execute()
    },

    async countLiveHashedOtherwise(hashKeyId, now) {
      const ms = now.getTime()
      const row = await db.selectFrom('key_pairs').select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where((eb) => liveAt(eb, ms))
        .where((eb) => eb.or([eb('hash_key_id', 'is', null), eb('hash_key_id', '!=', hashKeyId)]))
        .executeTakeFirstOrThrow()
      return Number(row.n)
    },

    async recordUsage(uses) {
      await db.transaction().execute(async (trx) => {
        for (const [id, use] of uses) {
          const ms = use.lastUsedAt.getTime()
          await trx.updateTable('key_pairs')
            .set((eb) => {
              // Last use only moves forward, whichever instance flushes last; its address and
              // User-Agent go with it (every right-hand side reads the row as it was).
              const newer = eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', ms)])
              return {
                tokens_issued: eb('tokens_issued', '+', use.tokens),
                last_used_at: eb.case().when(newer).then(ms).else(eb.ref('last_used_at')).end(),
                last_used_address: eb.case().when(newer).then(use.address).else(eb.ref('last_used_address')).end(),
                last_used_user_agent: eb.case().when(newer).then(use.userAgent).else(eb.ref('last_used_user_agent')).end(),
              }
            })
            .where('id', '=', id)
            .execute()
        }
      })
    },

    async listExpiring(query) {
      let q = db.selectFrom('key_pairs as k')
        .innerJoin('clients as c', 'c.id', 'k.client_id')
        .select(['k.id', 'k.client_id', 'c.name', 'c.account_id', 'k.lifetime_ends_at'])
        .where('k.lifetime_ends_at', '<=', query.until.getTime())
        .where('c.deleted_at', 'is', null)
        // Nothing ends it before its lifetime does: no revocation, no grace ending sooner.
        .where((eb) => eb.or([eb('k.revoked_at', 'is', null), eb('k.revoked_at', '>', eb.ref('k.lifetime_ends_at'))]))
        .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', eb.ref('k.lifetime_ends_at'))]))
        .where((eb) => eb.not(eb.exists(eb.selectFrom('key_pair_expiry_notices as n').select('n.key_pair_id')
          .whereRef('n.key_pair_id', '=', 'k.id').where('n.horizon', '=', 'expired'))))
        .orderBy('k.lifetime_ends_at').orderBy('k.id')
      if (query.accountId !== undefined) q = q.where('c.account_id', '=', query.accountId)
      const rows = await q.execute()
      if (rows.length === 0) return []
      const notices = await db.selectFrom('key_pair_expiry_notices').select(['key_pair_id', 'horizon'])
        .where('key_pair_id', 'in', rows.map((r) => r.id))
        .execute()
      const sent = new Map<string, ExpiryHorizon[]>()
      for (const n of notices) sent.set(n.key_pair_id, [...sent.get(n.key_pair_id) ?? [], n.horizon as ExpiryHorizon])
      return rows.map((r) => ({
        id: r.id as KeyPairId,
        clientId: r.client_id as ClientId,
        clientName: r.name,
        accountId: r.account_id as AccountId,
        lifetimeEndsAt: toDate(r.lifetime_ends_at as number),
        noticesSent: sent.get(r.id) ?? [],
      }))
    },

    async recordExpiryNotice(id, horizon, at) {
      // The primary key decides: of two instances recording the same notice, the second inserts nothing.
      const result = await db.insertInto('key_pair_expiry_notices')
        .values({ key_pair_id: id, horizon, sent_at: at.getTime() })
        .onConflict((oc) => oc.columns(['key_pair_id', 'horizon']).doNothing())
        .executeTakeFirst()
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
    },
  }
}
