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
})

export function createAccountRepository(db: Kysely<Database>): AccountStore {
  return {
    async insert(account) {
      await db.insertInto('accounts').values({
        id: account.id, name: account.name, plan: account.plan, created_at: account.createdAt.getTime(),
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
    async count() {
      const row = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()
      return Number(row.n)
    },
  }
}
