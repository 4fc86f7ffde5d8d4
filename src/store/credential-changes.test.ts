import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DummyDriver, Kysely, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql, type OperationNode } from 'kysely'
import { credentialChangesOf, parseCredentialSubject } from './credential-changes.js'
import type { Database } from './schema.js'

// Queries are only built here, never run.
const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new SqliteIntrospector(k),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
})

const changes = (query: { toOperationNode(): OperationNode }): string[] => [...credentialChangesOf(query.toOperationNode())].sort()

test('a write confined to ids names them; one that is not names everything', () => {
  const cases: [string, { toOperationNode(): OperationNode }, string[]][] = [
    ['user disabled', db.updateTable('users').set({ disabled: 1, updated_at: 1 }).where('id', '=', 'u1'), ['u:u1']],
    ['pairs revoked', db.updateTable('key_pairs').set({ revoked_at: 1 }).where('id', 'in', ['k1', 'k2']), ['k:k1', 'k:k2']],
    ['pairs of a client ended', db.updateTable('key_pairs').set({ expires_at: 1 }).where('id', 'in', ['k1']).where('expires_at', 'is', null), ['k:k1']],
    ['client disabled', db.updateTable('clients').set({ disabled: 1 }).where('id', '=', 'c1').where('deleted_at', 'is', null), ['c:c1']],
    ['plan changed', db.updateTable('accounts').set({ plan: 'standard' }).where('id', '=', 'a1'), ['a:a1']],
    ['aliased table', db.updateTable('key_pairs as k').set({ revoked_at: 1 }).where('id', '=', 'k1'), ['k:k1']],
    ['pair deleted', db.deleteFrom('key_pairs').where('id', '=', 'k1'), ['k:k1']],
    ['every user', db.updateTable('users').set({ disabled: 1 }), ['*']],
    ['users by email', db.updateTable('users').set({ disabled: 1 }).where('email', '=', 'x@example.com'), ['*']],
    ['id or something else', db.updateTable('users').set({ disabled: 1 }).where((eb) => eb.or([eb('id', '=', 'u1'), eb('email', '=', 'x')])), ['*']],
    ['qualified id of another table', db.updateTable('clients').set({ disabled: 1 }).where('clients.id', '=', 'c1'), ['*']],
    ['users of an account deleted', db.deleteFrom('users').where('account_id', '=', 'a1'), ['*']],
    ['upsert of a user', db.insertInto('users').values({ id: 'u1' } as never).onConflict((oc) => oc.column('id').doUpdateSet({ disabled: 1 })), ['*']],
    ['raw update', { toOperationNode: () => sql`update accounts set plan = 'standard'`.toOperationNode() }, ['*']],
    ['raw truncate', { toOperationNode: () => sql`truncate key_pairs`.toOperationNode() }, ['*']],
    ['raw update after a cte', { toOperationNode: () => sql`with x as (select 1) update users set disabled = 1`.toOperationNode() }, ['*']],
    ['update in a cte', db.with('x', (q) => q.updateTable('users').set({ disabled: 1 }).where('id', '=', 'u1').returning('id')).selectFrom('x').selectAll(), ['u:u1']],
  ]
  for (const [name, query, expected] of cases) assert.deepEqual(changes(query), expected, name)
})

test('reads, new rows, other tables and inert columns change no credential', () => {
  const cases: [string, { toOperationNode(): OperationNode }][] = [
    ['read', db.selectFrom('users').selectAll().where('id', '=', 'u1')],
    ['usage counters', db.updateTable('key_pairs').set({ tokens_issued: 3, last_used_at: 1 }).where('id', '=', 'k1')],
    ['a password', db.updateTable('users').set({ password_hash: 'h', password_change_required: 0, updated_at: 1 }).where('id', '=', 'u1')],
    ['a second factor', db.updateTable('users').set({ totp_last_step: 3 }).where('id', '=', 'u1')],
    ['a new pair', db.insertInto('key_pairs').values({ id: 'k9' } as never)],
    ['sessions', db.updateTable('sessions').set({ last_seen_at: 1 }).where('id_hash', '=', 'h')],
    ['audit', db.insertInto('audit_events').values({ id: 'e' } as never)],
    ['revoked token, ignoring repeats', db.insertInto('revoked_tokens').values({ jti: 'j' } as never).onConflict((oc) => oc.column('jti').doNothing())],
    ['raw read', { toOperationNode: () => sql`select pg_notify('keymint_changes', 'revocations')`.toOperationNode() }],
    ['raw lock', { toOperationNode: () => sql`select pg_advisory_xact_lock(hashtext('users'))`.toOperationNode() }],
  ]
  for (const [name, query] of cases) assert.deepEqual(changes(query), [], name)
})

test('subjects from a notification are taken only when well formed', () => {
  assert.equal(parseCredentialSubject('u:00000000-0000-4000-8000-000000000001'), 'u:00000000-0000-4000-8000-000000000001')
  for (const bad of [undefined, '', 'x:1', 'u:', 'u:a b', `k:${'a'.repeat(65)}`, '*']) assert.equal(parseCredentialSubject(bad), '*', String(bad))
})
