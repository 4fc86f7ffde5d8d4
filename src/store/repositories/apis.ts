import type { Kysely, Selectable } from 'kysely'
import type { KeyManagementAlg } from '../../crypto/encryption-public-keys.js'
import { Conflict } from '../../domain/errors.js'
import type { ApiStore } from '../../domain/ports.js'
import type { AccountId, Api, ApiId } from '../../domain/types.js'
import { toDate, translateUniqueViolation } from '../errors.js'
import type { ApisTable, Database } from '../schema.js'

function encryptionOf(r: Selectable<ApisTable>): Api['encryption'] {
  if (r.encryption_jwk === null || r.encryption_alg === null) return null
  const { kid, ...publicJwk } = JSON.parse(r.encryption_jwk) as Record<string, string>
  return { kid: kid as string, alg: r.encryption_alg as KeyManagementAlg, publicJwk }
}

const toApi = (r: Selectable<ApisTable>): Api => ({
  id: r.id as ApiId, accountId: r.account_id as AccountId, identifier: r.identifier, name: r.name, encryption: encryptionOf(r), createdAt: toDate(r.created_at),
})

export function createApiRepository(db: Kysely<Database>): ApiStore {
  return {
    async insert(api) {
      try {
        await db.insertInto('apis').values({
          id: api.id, account_id: api.accountId, identifier: api.identifier, name: api.name, created_at: api.createdAt.getTime(),
          encryption_jwk: api.encryption && JSON.stringify({ ...api.encryption.publicJwk, kid: api.encryption.kid }),
          encryption_alg: api.encryption && api.encryption.alg,
        }).execute()
      } catch (err) {
        // Unique across accounts: the identifier is what tokens carry in `aud`.
        const translated = translateUniqueViolation(err, `the API identifier ${api.identifier.slice(0, 200)} is already registered`)
        throw translated instanceof Conflict ? new Conflict('KEYMINT_API_EXISTS', translated.message, { cause: err }) : translated
      }
      return api
    },
    async listByAccount(accountId) {
      const rows = await db.selectFrom('apis').selectAll().where('account_id', '=', accountId).orderBy('identifier').execute()
      return rows.map(toApi)
    },
    async findByIdentifier(accountId, identifier) {
      const row = await db.selectFrom('apis').selectAll().where('account_id', '=', accountId).where('identifier', '=', identifier).executeTakeFirst()
      return row && toApi(row)
    },
  }
}
