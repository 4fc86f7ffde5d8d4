import type { Kysely } from 'kysely'

// A second factor for signing in: a TOTP secret per user, sealed under the master key like the
// server's private keys, pending until a first code confirms it; the step of the last code
// accepted, so that no code is taken twice; one-time recovery codes, of which only a hash is
// kept; and an account setting that requires a second factor of every admin.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('totp_secret_sealed', 'text').execute()
  await db.schema.alterTable('users').addColumn('totp_enabled_at', 'bigint').execute()
  await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint').execute()
  await db.schema.createTable('recovery_codes')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
    .execute()
  await db.schema.alterTable('accounts').addColumn('require_admin_second_factor', 'integer', (c) => c.notNull().defaultTo(0)).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('require_admin_second_factor').execute()
  await db.schema.dropTable('recovery_codes').execute()
  for (const column of ['totp_last_step', 'totp_enabled_at', 'totp_secret_sealed']) {
    await db.schema.alterTable('users').dropColumn(column).execute()
  }
}
