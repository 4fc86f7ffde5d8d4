import type { Kysely, Selectable } from 'kysely'
import type { FederationPolicyStore } from '../../domain/ports.js'
import type { AccountId, ClientId, FederationPolicy, FederationPolicyId, KeyPairId, Permission, Plan, PublicJwk, Role, UserId } from '../../domain/types.js'
import { toDate, toDateOrNull } from '../errors.js'
import type { Database, FederationPoliciesTable } from '../schema.js'
import { toClient } from './clients.js'

const toPolicy = (r: Selectable<FederationPoliciesTable>): FederationPolicy => ({
  id: r.id as FederationPolicyId,
  accountId: r.account_id as AccountId,
  clientId: r.client_id as ClientId,
  issuer: r.issuer,
  audience: r.audience,
  subject: r.subject,
  claims: JSON.parse(r.claims) as Record<string, string>,
  jwks: r.jwks === null ? null : JSON.parse(r.jwks) as { keys: PublicJwk[] },
  maxAgeSeconds: r.max_age_seconds === null ? null : Number(r.max_age_seconds),
  createdAt: toDate(Number(r.created_at)),
  deletedAt: r.deleted_at === null ? null : toDate(Number(r.deleted_at)),
})

// No secret stands behind a policy: nothing can ever match this hash.
const NO_SECRET = Buffer.alloc(0)

export function createFederationPolicyRepository(db: Kysely<Database>): FederationPolicyStore {
  // Policies of clients that still exist; a deleted client's policies were deleted with it.
  const live = () => db.selectFrom('federation_policies as f')
    .innerJoin('clients as c', 'c.id', 'f.client_id')
    .selectAll('f')
    .where('f.deleted_at', 'is', null)
    .where('c.deleted_at', 'is', null)

  return {
    async insert(p) {
      await db.insertInto('federation_policies').values({
        id: p.id, account_id: p.accountId, client_id: p.clientId, issuer: p.issuer, audience: p.audience, subject: p.subject,
        claims: JSON.stringify(p.claims), jwks: p.jwks === null ? null : JSON.stringify(p.jwks), max_age_seconds: p.maxAgeSeconds,
        created_at: p.createdAt.getTime(), deleted_at: null,
      }).execute()
    },

    async findById(id) {
      const row = await live().where('f.id', '=', id).executeTakeFirst()
      return row && toPolicy(row)
    },

    async listByAccount(accountId) {
      return (await live().where('f.account_id', '=', accountId).orderBy('f.created_at').orderBy('f.id').execute()).map(toPolicy)
    },

    async listByIssuer(issuer) {
      return (await live().where('f.issuer', '=', issuer).orderBy('f.created_at').orderBy('f.id').execute()).map(toPolicy)
    },

    async markDeleted(id, at) {
      const result = await db.updateTable('federation_policies').set({ deleted_at: at.getTime() }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },

    async markDeletedForClient(clientId, at) {
      const rows = await db.selectFrom('federation_policies').select('id').where('client_id', '=', clientId).where('deleted_at', 'is', null).execute()
      if (rows.length === 0) return []
      const ids = rows.map((r) => r.id)
      await db.updateTable('federation_policies').set({ deleted_at: at.getTime() }).where('id', 'in', ids).execute()
      return ids as FederationPolicyId[]
    },

    async findCredential(id) {
      const row = await db.selectFrom('federation_policies as f')
        .innerJoin('clients as c', 'c.id', 'f.client_id')
        .innerJoin('accounts as a', 'a.id', 'c.account_id')
        .leftJoin('users as u', 'u.id', 'c.user_id')
        .select([
          'f.id as policy_id', 'f.deleted_at as policy_deleted_at',
          'c.id', 'c.account_id', 'c.name', 'c.level', 'c.user_id', 'c.scopes', 'c.lifetime_seconds', 'c.token_encryption', 'c.public_jwk', 'c.signing_alg', 'c.secret_auth', 'c.require_dpop', 'c.created_at',
          'c.disabled', 'c.tokens_cut_off_at', 'c.rate_limit', 'c.rate_limit_per', 'c.quota', 'c.quota_per', 'c.quota_mode',
          'a.plan',
          'u.role as user_role', 'u.permissions as user_permissions', 'u.scopes as user_scopes', 'u.disabled as user_disabled',
          'u.tokens_cut_off_at as user_tokens_cut_off_at',
        ])
        .where('f.id', '=', id)
        .where('c.deleted_at', 'is', null)
        .executeTakeFirst()
      if (!row) return undefined
      return {
        keyPair: { id: row.policy_id as KeyPairId, secretHash: NO_SECRET, expiresAt: null, lifetimeEndsAt: null, revokedAt: toDateOrNull(row.policy_deleted_at === null ? null : Number(row.policy_deleted_at)) },
        client: toClient(row),
        accountPlan: row.plan as Plan,
        user: row.user_id === null || row.user_permissions === null
          ? null
          : {
              id: row.user_id as UserId,
              permissions: JSON.parse(row.user_permissions) as Permission[],
              scopes: JSON.parse(row.user_scopes ?? '[]') as string[],
              disabled: Number(row.user_disabled) === 1,
              role: row.user_role as Role,
              tokensCutOffAt: toDateOrNull(row.user_tokens_cut_off_at),
            },
      }
    },

    async listEndedForAccount(accountId, since, now) {
      const rows = await db.selectFrom('federation_policies').select(['id', 'deleted_at'])
        .where('account_id', '=', accountId)
        .where('deleted_at', '>', since.getTime())
        .where('deleted_at', '<=', now.getTime())
        .execute()
      return rows.map((r) => ({ id: r.id as FederationPolicyId, endedAt: toDate(Number(r.deleted_at)) }))
    },

    async listByClients(clientIds) {
      if (clientIds.length === 0) return []
      const rows = await db.selectFrom('federation_policies').select(['id', 'client_id', 'created_at']).where('client_id', 'in', [...clientIds]).execute()
      return rows.map((r) => ({ id: r.id as FederationPolicyId, clientId: r.client_id as ClientId, createdAt: toDate(Number(r.created_at)) }))
    },

    async listLiveForUsers(userIds) {
      if (userIds.length === 0) return []
      const rows = await db.selectFrom('federation_policies as f')
        .innerJoin('clients as c', 'c.id', 'f.client_id')
        .select(['f.id', 'c.user_id'])
        .where('c.user_id', 'in', [...userIds])
        .where('f.deleted_at', 'is', null)
        .execute()
      return rows.map((r) => ({ id: r.id as FederationPolicyId, userId: r.user_id as UserId }))
    },
  }
}
