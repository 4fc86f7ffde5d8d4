import { sql, type Kysely } from 'kysely'
import type { SqlEngine } from '../database-url.js'

// PostgreSQL: every change to a row a credential is read from (key pair, client, user, account)
// is announced on the instances' channel as `credentials:<k|c|u|a>:<id>`, delivered on commit,
// whoever made it (a server instance, the CLI, an operator's SQL). Instances cache credentials
// and drop what the announcement names. Changes to usage counters and to people's sign-in secrets
// change no credential and are not announced. SQLite has no channel: instances there poll
// `PRAGMA data_version` instead, so this migration changes nothing there.
const TABLES = [
  { table: 'key_pairs', prefix: 'k', inert: ['last_used_at', 'tokens_issued'] },
  { table: 'clients', prefix: 'c', inert: [] },
  { table: 'users', prefix: 'u', inert: ['password_hash', 'password_change_required', 'updated_at', 'totp_secret_sealed', 'totp_enabled_at', 'totp_last_step'] },
  { table: 'accounts', prefix: 'a', inert: [] },
] as const

export async function up(db: Kysely<unknown>, engine: SqlEngine): Promise<void> {
  if (engine !== 'postgres') return
  await sql`
    create function keymint_announce_credential_change() returns trigger language plpgsql as $$
    begin
      perform pg_notify('keymint_changes', 'credentials:' || tg_argv[0] || ':' || old.id);
      return null;
    end
    $$`.execute(db)
  // Emptying a table changes every credential read from it: `*`, everything.
  await sql`
    create function keymint_announce_credentials_emptied() returns trigger language plpgsql as $$
    begin
      perform pg_notify('keymint_changes', 'credentials:*');
      return null;
    end
    $$`.execute(db)
  for (const { table, prefix, inert } of TABLES) {
    const strip = inert.map((c) => ` - '${c}'`).join('')
    await sql.raw(`
      create trigger keymint_${table}_updated after update on ${table} for each row
      when ((to_jsonb(old)${strip}) is distinct from (to_jsonb(new)${strip}))
      execute function keymint_announce_credential_change('${prefix}')`).execute(db)
    await sql.raw(`
      create trigger keymint_${table}_deleted after delete on ${table} for each row
      execute function keymint_announce_credential_change('${prefix}')`).execute(db)
    await sql.raw(`
      create trigger keymint_${table}_emptied after truncate on ${table} for each statement
      execute function keymint_announce_credentials_emptied()`).execute(db)
  }
}

export async function down(db: Kysely<unknown>, engine: SqlEngine): Promise<void> {
  if (engine !== 'postgres') return
  for (const { table } of TABLES) {
    await sql.raw(`drop trigger if exists keymint_${table}_updated on ${table}`).execute(db)
    await sql.raw(`drop trigger if exists keymint_${table}_deleted on ${table}`).execute(db)
    await sql.raw(`drop trigger if exists keymint_${table}_emptied on ${table}`).execute(db)
  }
  await sql`drop function if exists keymint_announce_credential_change()`.execute(db)
  await sql`drop function if exists keymint_announce_credentials_emptied()`.execute(db)
}
