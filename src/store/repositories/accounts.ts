import type { Kysely, Selectable } from 'kysely'
import type { AccountStore } from '../../domain/ports.js'
import type { Account, AccountId, Plan } from '../../domain/types.js'
import { toDate } from '../errors.js'
import type { AccountsTable, Database } from '../schema.js'

const toAccount = (row: Selectable<AccountsTable>): Account => ({
  id: row.id as AccountId,
  name: row.name,
  plan: row.plan as Plan,
  createdAt: toDate(row.created_at),
  requireAdminSecondFactor: Number(row.require_admin_second_factor) === 1,
  defaultKeyExpiresIn: row.default_key_expires_in === null ? null : Number(row.default_key_expires_in),
  maxKeyExpiresIn: row.max_key_expires_in === null ? null : Number(row.max_key_expires_in),
})

export function createAccountRepository(db: Kysely<Database>): AccountStore {
  return {
    async insert(account) {
      await db.insertInto('accounts').values({
        id: account.id, name: account.name, plan: account.plan, created_at: account.createdAt.getTime(),
        require_admin_second_factor: account.requireAdminSecondFactor ? 1 : 0,
        default_key_expires_in: account.defaultKeyExpiresIn,
        max_key_expires_in: account.maxKeyExpiresIn,
      }).execute()
      return account
    },
    async findById(id) {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst()
      return row && toAccount(row)
    },
    async listAll() {
      return (await db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('id').execute()).map(toAccount)
    },
    async setRequireAdminSecondFactor(id, required) {
      const row = await db.updateTable('accounts').set({ require_admin_second_factor: required ? 1 : 0 }).where('id', '=', id).returningAll().executeTakeFirst()
      return row && toAccount(row)
    },
    async update(id, patch) {
      const row = await db.updateTable('accounts').set({
        ...(patch.requireAdminSecondFactor === undefined ? {} : { require_admin_second_factor: patch.requireAdminSecondFactor ? 1 : 0 }),
        ...(patch.defaultKeyExpiresIn === undefined ? {} : { default_key_expires_in: patch.defaultKeyExpiresIn }),
        ...(patch.maxKeyExpiresIn === undefined ? {} : { max_key_expires_in: patch.maxKeyExpiresIn }),
      }).where('id', '=', id).returningAll().executeTakeFirst()
      return row && toAccount(row)
    },
    async count() {
      const row = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()
      return Number(row.n)
    },
  }
}
