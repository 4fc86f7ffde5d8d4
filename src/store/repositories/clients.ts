import type { Kysely, Selectable, Updateable } from 'kysely'
import type { SigningAlg } from '../../crypto/jws.js'
import type { ClientStore } from '../../domain/ports.js'
import type { AccountId, Client, ClientId, ClientLevel, LimitMode, QuotaPeriod, RatePeriod, TokenEncryptionAlg, UserId } from '../../domain/types.js'
import { toDate, toDateOrNull } from '../errors.js'
import type { ClientsTable, Database } from '../schema.js'

export const toClient = (row: Omit<Selectable<ClientsTable>, 'deleted_at'>): Client => ({
  id: row.id as ClientId,
  accountId: row.account_id as AccountId,
  name: row.name,
  level: row.level as ClientLevel,
  userId: row.user_id as UserId | null,
  scopes: row.scopes === null ? null : (JSON.parse(row.scopes) as string[]),
  lifetimeSeconds: row.lifetime_seconds,
  tokenEncryption: row.token_encryption as TokenEncryptionAlg | null,
  publicJwk: row.public_jwk === null ? null : (JSON.parse(row.public_jwk) as Record<string, string>),
  signingAlg: row.signing_alg as SigningAlg | null,
  secretAuth: Number(row.secret_auth) === 1,
  requireDPoP: Number(row.require_dpop) === 1,
  createdAt: toDate(row.created_at),
  disabled: Number(row.disabled) === 1,
  tokensCutOffAt: toDateOrNull(row.tokens_cut_off_at),
  rateLimit: row.rate_limit === null || row.rate_limit_per === null ? null : { requests: Number(row.rate_limit), per: row.rate_limit_per as RatePeriod },
  quota: row.quota === null || row.quota_per === null ? null : { tokens: Number(row.quota), per: row.quota_per as QuotaPeriod },
  quotaMode: row.quota_mode as LimitMode,
})

export function createClientRepository(db: Kysely<Database>): ClientStore {
  return {
    async insert(client) {
      await db.insertInto('clients').values({
        id: client.id,
        account_id: client.accountId,
        name: client.name,
        level: client.level,
        user_id: client.userId,
        scopes: client.scopes === null ? null : JSON.stringify(client.scopes),
        lifetime_seconds: client.lifetimeSeconds,
        token_encryption: client.tokenEncryption,
        public_jwk: client.publicJwk === null ? null : JSON.stringify(client.publicJwk),
        signing_alg: client.signingAlg,
        secret_auth: client.secretAuth ? 1 : 0,
        require_dpop: client.requireDPoP ? 1 : 0,
        created_at: client.createdAt.getTime(),
        disabled: client.disabled ? 1 : 0,
        tokens_cut_off_at: client.tokensCutOffAt?.getTime() ?? null,
        rate_limit: client.rateLimit?.requests ?? null,
        rate_limit_per: client.rateLimit?.per ?? null,
        quota: client.quota?.tokens ?? null,
        quota_per: client.quota?.per ?? null,
        quota_mode: client.quotaMode,
      }).execute()
      return client
    },
    async update(id, patch) {
      const values: Updateable<ClientsTable> = {}
      if (patch.name !== undefined) values.name = patch.name
      if (patch.scopes !== undefined) values.scopes = patch.scopes === null ? null : JSON.stringify(patch.scopes)
      if (patch.lifetimeSeconds !== undefined) values.lifetime_seconds = patch.lifetimeSeconds
      if (patch.tokenEncryption !== undefined) values.token_encryption = patch.tokenEncryption
      if (patch.publicJwk !== undefined) values.public_jwk = patch.publicJwk === null ? null : JSON.stringify(patch.publicJwk)
      if (patch.signingAlg !== undefined) values.signing_alg = patch.signingAlg
      if (patch.secretAuth !== undefined) values.secret_auth = patch.secretAuth ? 1 : 0
      if (patch.requireDPoP !== undefined) values.require_dpop = patch.requireDPoP ? 1 : 0
      if (patch.disabled !== undefined) values.disabled = patch.disabled ? 1 : 0
      if (patch.tokensCutOffAt !== undefined) values.tokens_cut_off_at = patch.tokensCutOffAt.getTime()
      if (patch.rateLimit !== undefined) {
        values.rate_limit = patch.rateLimit?.requests ?? null
        values.rate_limit_per = patch.rateLimit?.per ?? null
      }
      if (patch.quota !== undefined) {
        values.quota = patch.quota?.tokens ?? null
        values.quota_per = patch.quota?.per ?? null
      }
      if (patch.quotaMode !== undefined) values.quota_mode = patch.quotaMode
      if (Object.keys(values).length === 0) return this.findById(id)
      const row = await db.updateTable('clients').set(values).where('id', '=', id).where('deleted_at', 'is', null).returningAll().executeTakeFirst()
      return row && toClient(row)
    },
    async markDeleted(id, at) {
      const result = await db.updateTable('clients').set({ deleted_at: at.getTime() }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async listByAccount(accountId) {
      return (await db.selectFrom('clients').selectAll().where('account_id', '=', accountId).where('deleted_at', 'is', null)
        .orderBy('created_at').orderBy('id').execute()).map(toClient)
    },
    async findById(id) {
      const row = await db.selectFrom('clients').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst()
      return row && toClient(row)
    },
    async listCutOffForAccount(accountId, since) {
      // Deleted clients too: the tokens a cut-off ended stay ended.
      const rows = await db.selectFrom('clients').select(['id', 'tokens_cut_off_at'])
        .where('account_id', '=', accountId).where('tokens_cut_off_at', '>', since.getTime()).execute()
      return rows.map((r) => ({ id: r.id as ClientId, tokensCutOffAt: toDate(Number(r.tokens_cut_off_at)) }))
    },
  }
}
