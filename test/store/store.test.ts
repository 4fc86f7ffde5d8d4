import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { createAccount } from '../../src/domain/accounts.js'
import { createClient } from '../../src/domain/clients.js'
import { Conflict, Forbidden, NotFound } from '../../src/domain/errors.js'
import { rotateKeyPair } from '../../src/domain/key-pairs.js'
import { bootstrapIfEmpty } from '../../src/domain/bootstrap.js'
import { ensureServerKeys } from '../../src/domain/server-keys.js'
import { createUser, updateUser } from '../../src/domain/users.js'
import type { KeyPairId } from '../../src/domain/types.js'
import { MIGRATIONS, migrateToLatest } from '../../src/store/migrate.js'
import { openServices, type Services } from '../../src/services.js'
import { cleanup } from '../helpers/cleanup.js'
import { createTestDatabase, describeEachDialect, type Dialect } from '../helpers/dialects.js'
import { tempDir } from '../helpers/server.js'
import type { TestContext } from 'node:test'

async function open(t: TestContext, dialect: Dialect, opts: { migrated: boolean } = { migrated: true }): Promise<Services> {
  const db = await createTestDatabase(t, dialect, tempDir(t), opts)
  const services = await openServices(loadConfig({ db: db.url }, { KEYMINT_MASTER_KEY: generateMasterKey() }))
  cleanup(t, () => services.close())
  return services
}

/** Two independent connections (pools) to one database, as two server instances would have. */
async function openTwice(t: TestContext, dialect: Dialect): Promise<[Services, Services]> {
  const db = await createTestDatabase(t, dialect, tempDir(t), { migrated: true })
  const config = loadConfig({ db: db.url }, { KEYMINT_MASTER_KEY: generateMasterKey() })
  const a = await openServices(config)
  const b = await openServices(config)
  cleanup(t, async () => { await a.close(); await b.close() })
  return [a, b]
}

const count = async (s: Services, table: 'clients' | 'key_pairs' | 'users' | 'accounts') =>
  Number((await s.database.db.selectFrom(table).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()).n)

/**
 * Concurrent writers: at least one wins; PostgreSQL queues the rest (advisory locks), SQLite may
 * refuse them with SQLITE_BUSY and nothing else. Returns how many succeeded.
 */
function assertOnlyBusyRefusals(dialect: Dialect, results: PromiseSettledResult<unknown>[]): number {
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
  assert.ok(refused.length < results.length, 'at least one attempt succeeds')
  if (dialect === 'postgres') assert.deepEqual(refused.map((r) => String(r.reason)), [], 'PostgreSQL serializes, it refuses none')
  for (const r of refused) assert.match(String((r.reason as { code?: unknown }).code), /^SQLITE_BUSY/, String(r.reason))
  return results.length - refused.length
}

describeEachDialect('store', (dialect) => {
  test('migrations apply once; applying again is a no-op', async (t) => {
    const s = await open(t, dialect, { migrated: false })
    assert.deepEqual((await migrateToLatest(s.database)).applied, [])
    assert.deepEqual((await migrateToLatest(s.database)).applied, [])
  })

  test('0009: an identifier registered by several accounts stays with the first; the others are removed and audited', async (t) => {
    const s = await open(t, dialect)
    const [a, b] = [await createAccount(s, { name: 'a' }), await createAccount(s, { name: 'b' })]
    const db = s.database.db
    // Back to before 0009: undo it and everything after it, newest first.
    const since0009 = Object.entries(MIGRATIONS).filter(([name]) => name >= '0009')
    for (const [name, migration] of [...since0009].reverse()) {
      await migration.down(db as never, s.database.engine)
      await db.deleteFrom('keymint_migrations' as never).where('name' as never, '=', name as never).execute()
    }
    const row = (id: string, accountId: string, identifier: string, at: number) => ({ id, account_id: accountId, identifier, name: identifier, created_at: at })
    await db.insertInto('apis').values([
      row('00000000-0000-4000-8000-000000000001', b.id, 'https://shared.example.com', 2000),
      row('00000000-0000-4000-8000-000000000002', a.id, 'https://shared.example.com', 1000),
      row('00000000-0000-4000-8000-000000000003', b.id, 'https://b.example.com', 3000),
    ]).execute()
    assert.deepEqual((await migrateToLatest(s.database)).applied, since0009.map(([name]) => name))
    assert.deepEqual((await s.store.apis.listByAccount(a.id)).map((x) => x.identifier), ['https://shared.example.com'])
    assert.deepEqual((await s.store.apis.listByAccount(b.id)).map((x) => x.identifier), ['https://b.example.com'])
    const removed = (await s.store.audit.list({ accountId: b.id, limit: 10 })).filter((e) => e.action === 'api.removed')
    assert.deepEqual(removed.map((e) => [e.target, e.details]), [['00000000-0000-4000-8000-000000000001', { identifier: 'https://shared.example.com' }]])
    await assert.rejects(s.store.apis.insert({ ...(await s.store.apis.listByAccount(a.id))[0]!, id: '00000000-0000-4000-8000-000000000004' as never, accountId: b.id }), Conflict)
  })

  test('accounts, users and clients round-trip with their types intact', async (t) => {
    const s = await open(t, dialect)
    const account = await createAccount(s, { name: '  Acme  ', plan: 'enterprise' })
    assert.equal(account.name, 'Acme')
    assert.deepEqual(await s.store.accounts.findById(account.id), account)
    const user = await createUser(s, {
      accountId: account.id, email: 'Dev@Example.com', role: 'admin', permissions: ['api', 'ui'], scopes: ['b:read', 'a:read'],
    })
    assert.equal(user.email, 'dev@example.com')
    assert.deepEqual(user.scopes, ['a:read', 'b:read'])
    assert.deepEqual(await s.store.users.findById(user.id), user)
    const updated = await updateUser(s, { userId: user.id, disabled: true, permissions: ['ui'] })
    assert.equal(updated.disabled, true)
    assert.deepEqual(updated.permissions, ['ui'])
    const { client, keyPair } = await createClient({ store: s.store, clock: s.clock, secrets: s.secrets }, {
      accountId: account.id, name: 'ci', level: 'user', userId: user.id, scopes: ['a:read'], lifetimeSeconds: 900,
    })
    assert.deepEqual(await s.store.clients.findById(client.id), client)
    const credential = await s.store.keyPairs.findCredential(keyPair.id)
    assert.ok(credential)
    assert.deepEqual(credential.client, client)
    assert.equal(credential.accountPlan, 'enterprise')
    assert.deepEqual(credential.user, { id: user.id, role: 'admin', permissions: ['ui'], scopes: ['a:read', 'b:read'], disabled: true, tokensCutOffAt: updated.tokensCutOffAt })
    assert.ok(updated.tokensCutOffAt instanceof Date, 'losing ui and api cuts the user off')
    const again = await updateUser(s, { userId: user.id, disabled: false, permissions: ['ui', 'api'] })
    assert.deepEqual(again.tokensCutOffAt, updated.tokensCutOffAt, 'enabling again keeps the cut-off')
    assert.ok(credential.keyPair.secretHash.equals(s.secrets.hash(keyPair.secret)), 'stored as its keyed hash')
    assert.equal(await s.store.keyPairs.findCredential('00000000-0000-4000-8000-000000000000' as KeyPairId), undefined)
  })

  test('a password hash is replaced by its rehash only while it is still the stored one', async (t) => {
    const s = await open(t, dialect)
    const account = await createAccount(s, { name: 'a' })
    const user = await createUser(s, { accountId: account.id, email: 'dev@example.com', role: 'admin' })
    const hashOf = async () => (await s.store.users.findSignIn(user.email))[0]?.passwordHash
    await s.store.users.setPassword(user.id, 'scrypt$1$changed', false, new Date(user.updatedAt.getTime() + 1000))
    assert.equal(await s.store.users.replacePasswordHash(user.id, 'scrypt$1$verified', 'scrypt$2$rehashed'), false, 'changed since it was verified')
    assert.equal(await hashOf(), 'scrypt$1$changed', 'a password changed meanwhile stays')
    assert.equal(await s.store.users.replacePasswordHash(user.id, 'scrypt$1$changed', 'scrypt$2$rehashed'), true)
    assert.equal(await hashOf(), 'scrypt$2$rehashed')
    assert.deepEqual(await s.store.users.findPasswordState(user.id), { hasPassword: true, changeRequired: false })
  })

  test('the secret is never stored in clear', async (t) => {
    const s = await open(t, dialect)
    const account = await createAccount(s, { name: 'a' })
    const { keyPair } = await createClient({ store: s.store, clock: s.clock, secrets: s.secrets }, { accountId: account.id, name: 'c', level: 'subscription' })
    const row = await s.database.db.selectFrom('key_pairs').selectAll().executeTakeFirstOrThrow()
    assert.ok(!JSON.stringify({ ...row, secret_hash: Buffer.from(row.secret_hash).toString('utf8') }).includes(keyPair.secret.slice(5)))
    assert.equal(Buffer.from(row.secret_hash).length, 32)
  })

  test('a duplicate email in one account is a Conflict and writes nothing', async (t) => {
    const s = await open(t, dialect)
    const account = await createAccount(s, { name: 'a' })
    await createUser(s, { accountId: account.id, email: 'x@example.com' })
    await assert.rejects(createUser(s, { accountId: account.id, email: 'X@example.com' }), Conflict)
    assert.equal(await count(s, 'users'), 1)
  })

  test('failed client creation leaves no half-written records', async (t) => {
    const s = await open(t, dialect)
    const deps = { store: s.store, clock: s.clock, secrets: s.secrets }
    const standard = await createAccount(s, { name: 's', plan: 'standard' })
    const enterprise = await createAccount(s, { name: 'e' })
    const other = await createAccount(s, { name: 'o' })
    const stranger = await createUser(s, { accountId: other.id, email: 's@example.com' })
    await assert.rejects(createClient(deps, { accountId: standard.id, name: 'c', level: 'subscription' }), Forbidden)
    await assert.rejects(createClient(deps, { accountId: enterprise.id, name: 'c', level: 'user', userId: stranger.id }), NotFound)
    await assert.rejects(createClient(deps, { accountId: '00000000-0000-4000-8000-000000000000', name: 'c', level: 'subscription' }), NotFound)
    assert.equal(await count(s, 'clients'), 0)
    assert.equal(await count(s, 'key_pairs'), 0)
  })

  test('rotation is atomic: the new pair and the old pair\'s end are written together', async (t) => {
    const s = await open(t, dialect)
    const account = await createAccount(s, { name: 'a' })
    const { client } = await createClient({ store: s.store, clock: s.clock, secrets: s.secrets }, { accountId: account.id, name: 'c', level: 'subscription' })
    const failing = { generate: () => { throw new Error('entropy exhausted') }, hash: s.secrets.hash, keyId: s.secrets.keyId }
    await assert.rejects(rotateKeyPair({ store: s.store, clock: s.clock, secrets: failing }, { clientId: client.id }))
    const pairs = await s.store.keyPairs.listByClient(client.id)
    assert.equal(pairs.length, 1)
    assert.equal(pairs[0]?.revokedAt, null, 'the old pair was not revoked by the failed rotation')
  })

  test('instances starting together bootstrap one account and one key of each use', async (t) => {
    const [a, b] = await openTwice(t, dialect)
    const input = { accountName: 'Default', adminEmail: 'admin@example.com' }
    const results = await Promise.allSettled([bootstrapIfEmpty(a, input), bootstrapIfEmpty(b, input), ensureServerKeys(a, 'RS256'), ensureServerKeys(b, 'RS256')])
    // SQLite may refuse the loser with SQLITE_BUSY instead of queueing it; it never duplicates.
    assertOnlyBusyRefusals(dialect, results)
    assert.equal(await count(a, 'accounts'), 1)
    const keys = await a.store.serverKeys.listAll()
    assert.deepEqual(keys.map((k) => k.use).sort(), ['enc', 'sig'])
  })

  test('concurrent rotations of one client leave exactly one active pair', async (t) => {
    const [a, b] = await openTwice(t, dialect)
    const account = await createAccount(a, { name: 'a' })
    const { client } = await createClient({ store: a.store, clock: a.clock, secrets: a.secrets }, { accountId: account.id, name: 'c', level: 'subscription' })
    const results = await Promise.allSettled([a, b, a, b].map((s) => rotateKeyPair({ store: s.store, clock: s.clock, secrets: s.secrets }, { clientId: client.id })))
    const succeeded = assertOnlyBusyRefusals(dialect, results)
    const pairs = await a.store.keyPairs.listByClient(client.id)
    assert.equal(pairs.length, 1 + succeeded, 'each successful rotation added one pair')
    assert.equal(pairs.filter((p) => p.revokedAt === null).length, 1)
  })

  test('last-used times only move forward; token counts accumulate', async (t) => {
    const s = await open(t, dialect)
    const account = await createAccount(s, { name: 'a' })
    const { client, keyPair } = await createClient({ store: s.store, clock: s.clock, secrets: s.secrets }, { accountId: account.id, name: 'c', level: 'subscription' })
    const later = new Date(Date.now() + 60_000)
    await s.store.keyPairs.recordUsage(new Map([[keyPair.id, { lastUsedAt: later, address: '2001:db8::1', userAgent: 'later/1.0', tokens: 3 }]]))
    await s.store.keyPairs.recordUsage(new Map([[keyPair.id, { lastUsedAt: new Date(Date.now() - 60_000), address: '192.0.2.1', userAgent: 'earlier/1.0', tokens: 2 }]]))
    const [pair] = await s.store.keyPairs.listByClient(client.id)
    assert.equal(pair?.lastUsedAt?.getTime(), later.getTime())
    assert.deepEqual([pair?.lastUsedAddress, pair?.lastUsedUserAgent], ['2001:db8::1', 'later/1.0'], 'address and User-Agent stay with the latest use')
    assert.equal(pair?.tokensIssued, 5, 'token counts add up across flushes')
  })
})

describeEachDialect('revoked tokens', (dialect) => {
  test('are listed in revocation order, recorded once, and purged after the token expires', async (t) => {
    const s = await open(t, dialect)
    const now = Date.now()
    const accountId = '00000000-0000-4000-8000-000000000001' as never
    await s.store.revokedTokens.insert({ jti: 'a', accountId, expiresAt: new Date(now + 1000), revokedAt: new Date(now) })
    await s.store.revokedTokens.insert({ jti: 'b', accountId, expiresAt: new Date(now + 60_000), revokedAt: new Date(now + 1) })
    await s.store.revokedTokens.insert({ jti: 'a', accountId, expiresAt: new Date(now + 1000), revokedAt: new Date(now + 2) })
    assert.deepEqual((await s.store.revokedTokens.listRevokedSince(new Date(now - 1), 10)).map((r) => r.jti), ['a', 'b'])
    assert.deepEqual((await s.store.revokedTokens.listRevokedSince(new Date(now), 10)).map((r) => r.jti), ['b'])
    assert.equal(await s.store.revokedTokens.purgeExpired(new Date(now + 2000)), 1)
    assert.deepEqual((await s.store.revokedTokens.listRevokedSince(new Date(0), 10)).map((r) => r.jti), ['b'])
  })
})
