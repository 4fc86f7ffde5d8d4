import type { Kysely } from 'kysely'

// A client that registered a public key authenticates with it alone, unless it was created to
// accept its secret as well. Existing clients with a key never chose both, so they lose the secret.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').addColumn('secret_auth', 'integer', (c) => c.notNull().defaultTo(1)).execute()
  const clients = db as unknown as Kysely<{ clients: { public_jwk: string | null; secret_auth: number } }>
  await clients.updateTable('clients').set({ secret_auth: 0 }).where('public_jwk', 'is not', null).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('clients').dropColumn('secret_auth').execute()
}
