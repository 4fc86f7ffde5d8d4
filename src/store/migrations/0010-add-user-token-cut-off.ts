import type { Kysely } from 'kysely'

// A user cut off (disabled, or `ui`/`api` taken away) stays cut off for the tokens issued
// before: the time is kept, so re-enabling the user revives none of them.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('tokens_cut_off_at', 'bigint').execute()
  // Users who cannot act today were cut off when they last changed.
  const users = db as unknown as Kysely<{ users: { id: string; permissions: string; disabled: number; updated_at: number; tokens_cut_off_at: number | null } }>
  const rows = await users.selectFrom('users').select(['id', 'permissions', 'disabled', 'updated_at']).execute()
  for (const row of rows) {
    const permissions = JSON.parse(row.permissions) as string[]
    if (row.disabled === 1 || !permissions.includes('ui') || !permissions.includes('api')) {
      await users.updateTable('users').set({ tokens_cut_off_at: Number(row.updated_at) }).where('id', '=', row.id).execute()
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('tokens_cut_off_at').execute()
}
