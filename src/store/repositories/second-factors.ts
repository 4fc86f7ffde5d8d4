import type { Kysely } from 'kysely'
import type { SecondFactorStore } from '../../domain/ports.js'
import type { UserId } from '../../domain/types.js'
import { toDateOrNull } from '../errors.js'
import type { Database } from '../schema.js'

const numberOrNull = (v: number | null): number | null => (v === null ? null : Number(v))

// The TOTP columns live on `users`; recovery codes in a table of their own. Every check-and-set
// is one conditional UPDATE, so two instances taking the same code at once cannot both succeed.
export function createSecondFactorRepository(db: Kysely<Database>): SecondFactorStore {
  return {
    async findTotp(userId) {
      const row = await db.selectFrom('users').select(['totp_secret_sealed', 'totp_enabled_at', 'totp_last_step'])
        .where('id', '=', userId).executeTakeFirst()
      if (!row || row.totp_secret_sealed === null) return undefined
      return {
        secretSealed: row.totp_secret_sealed,
        enabledAt: toDateOrNull(numberOrNull(row.totp_enabled_at)),
        lastStep: numberOrNull(row.totp_last_step),
      }
    },
    async setPendingTotp(userId, secretSealed) {
      const result = await db.updateTable('users').set({ totp_secret_sealed: secretSealed, totp_enabled_at: null, totp_last_step: null })
        .where('id', '=', userId).where('totp_enabled_at', 'is', null).executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async enableTotp(userId, step, at) {
      const result = await db.updateTable('users').set({ totp_enabled_at: at.getTime(), totp_last_step: step, updated_at: at.getTime() })
        .where('id', '=', userId).where('totp_secret_sealed', 'is not', null).where('totp_enabled_at', 'is', null).executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async acceptTotpStep(userId, step) {
      const result = await db.updateTable('users').set({ totp_last_step: step })
        .where('id', '=', userId).where('totp_enabled_at', 'is not', null)
        .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async clear(userId, at) {
      await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
      const result = await db.updateTable('users').set({ totp_secret_sealed: null, totp_enabled_at: null, totp_last_step: null, updated_at: at.getTime() })
        .where('id', '=', userId).where('totp_secret_sealed', 'is not', null).executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async replaceRecoveryCodes(userId, codeHashes, at) {
      await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
      if (codeHashes.length === 0) return
      await db.insertInto('recovery_codes')
        .values(codeHashes.map((hash) => ({ user_id: userId, code_hash: hash, created_at: at.getTime(), used_at: null })))
        .execute()
    },
    async useRecoveryCode(userId, codeHash, at) {
      const result = await db.updateTable('recovery_codes').set({ used_at: at.getTime() })
        .where('user_id', '=', userId).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    async countRecoveryCodesLeft(userId) {
      const row = await db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow()
      return Number(row.n)
    },
    async listSealedSecrets() {
      const rows = await db.selectFrom('users').select(['id', 'totp_secret_sealed']).where('totp_secret_sealed', 'is not', null).orderBy('id').execute()
      return rows.map((r) => ({ userId: r.id as UserId, secretSealed: r.totp_secret_sealed as string }))
    },
    async resealSecret(userId, secretSealed) {
      await db.updateTable('users').set({ totp_secret_sealed: secretSealed }).where('id', '=', userId).where('totp_secret_sealed', 'is not', null).execute()
    },
  }
}
