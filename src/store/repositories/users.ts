import type { Kysely, Selectable, Updateable } from 'kysely'
import type { UserStore } from '../../domain/ports.js'
import type { AccountId, Permission, Role, User, UserId } from '../../domain/types.js'
import { toDate, toDateOrNull, translateUniqueViolation } from '../errors.js'
import type { Database, UsersTable } from '../schema.js'

export const toUser = (row: Selectable<UsersTable>): User => ({
  id: row.id as UserId,
  accountId: row.account_id as AccountId,
  email: row.email,
  role: row.role as Role,
  permissions: JSON.parse(row.permissions) as Permission[],
  scopes: JSON.parse(row.scopes) as string[],
  disabled: row.disabled === 1,
  createdAt: toDate(row.created_at),
  updatedAt: toDate(row.updated_at),
  tokensCutOffAt: toDateOrNull(row.tokens_cut_off_at),
})

export function createUserRepository(db: Kysely<Database>): UserStore {
  return {
    async insert(user) {
      try {
        await db.insertInto('users').values({
          id: user.id,
          account_id: user.accountId,
          email: user.email,
          role: user.role,
          permissions: JSON.stringify(user.permissions),
          scopes: JSON.stringify(user.scopes),
          disabled: user.disabled ? 1 : 0,
          created_at: user.createdAt.getTime(),
          updated_at: user.updatedAt.getTime(),
          tokens_cut_off_at: user.tokensCutOffAt?.getTime() ?? null,
        }).execute()
      } catch (err) {
        throw translateUniqueViolation(err, `a user with email ${user.email} already exists in this account`)
      }
      return user
    },
    async findSignIn(email) {
      const rows = await db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).where('password_hash', 'is not', null).execute()
      return rows.map((row) => ({ user: toUser(row), passwordHash: row.password_hash as string, passwordChangeRequired: Number(row.password_change_required) === 1 }))
    },
    async findPasswordState(id) {
      const row = await db.selectFrom('users').select(['password_hash', 'password_change_required']).where('id', '=', id).executeTakeFirst()
      return row && { hasPassword: row.password_hash !== null, changeRequired: Number(row.password_change_required) === 1 }
    },
    async setPassword(id, hash, changeRequired, at) {
      await db.updateTable('users').set({ password_hash: hash, password_change_required: changeRequired ? 1 : 0, updated_at: at.getTime() }).where('id', '=', id).execute()
    },
    async replacePasswordHash(id, current, rehashed) {
      const result = await db.updateTable('users').set({ password_hash: rehashed })
        .where('id', '=', id).where('password_hash', '=', current).executeTakeFirst()
      return Number(result.numUpdatedRows) === 1
    },
    async findById(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toUser(row)
    },
    async listByAccount(accountId) {
      return (await db.selectFrom('users').selectAll().where('account_id', '=', accountId).orderBy('email').execute()).map(toUser)
    },
    async listCutOffForAccount(accountId, since) {
      const rows = await db.selectFrom('users').select(['id', 'tokens_cut_off_at'])
        .where('account_id', '=', accountId).where('tokens_cut_off_at', '>', since.getTime()).execute()
      return rows.map((r) => ({ id: r.id as UserId, tokensCutOffAt: toDate(Number(r.tokens_cut_off_at)) }))
    },
    async update(id, patch) {
      const values: Updateable<UsersTable> = { updated_at: patch.updatedAt.getTime() }
      if (patch.permissions) values.permissions = JSON.stringify(patch.permissions)
      if (patch.scopes) values.scopes = JSON.stringify(patch.scopes)
      if (patch.disabled !== undefined) values.disabled = patch.disabled ? 1 : 0
      if (patch.tokensCutOffAt) values.tokens_cut_off_at = patch.tokensCutOffAt.getTime()
      const row = await db.updateTable('users').set(values).where('id', '=', id).returningAll().executeTakeFirst()
      return row && toUser(row)
    },
  }
}
