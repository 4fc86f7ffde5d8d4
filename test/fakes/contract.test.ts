import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { auditEvent } from '../../src/domain/audit.js'
import { Conflict } from '../../src/domain/errors.js'
import type { Store } from '../../src/domain/ports.js'
import type { AccountId, ClientId, KeyPairId, UserId } from '../../src/domain/types.js'
import { openDatabase } from '../../src/store/database.js'
import { migrateToLatest } from '../../src/store/migrate.js'
import { createStore } from '../../src/store/store.js'
import { account, api, at, client, keyPair, user, uuid } from './records.js'
import { createFakeStore } from './store.js'

// The same assertions against the in-memory fake and the real store over SQLite: where the
// fake drifts from the repositories, this file fails, not a unit test that trusted it.

const implementations: { name: string; open: (t: TestContext) => Promise<Store> }[] = [
  { name: 'fake', open: async () => createFakeStore() },
  {
    name: 'sqlite',
    open: async (t) => {
      const database = await openDatabase('sqlite::memory:')
      t.after(() => database.close())
      await migrateToLatest(database)
      return createStore(database.db, database.engine)
    },
  },
]

const A = uuid<AccountId>(1)
const B = uuid<AccountId>(2)

/** Two enterprise accounts; the first has an admin (user 10) and a member (user 11). */
async function seed(store: Store): Promise<void> {
  await store.accounts.insert(account(1))
  await store.accounts.insert(account(2, { plan: 'standard' }))
  await store.users.insert(user(10, A, { role: 'admin', email: 'b@example.com', scopes: ['keymint:admin'] }))
  await store.users.insert(user(11, A, { email: 'a@example.com' }))
}

const scenarios: Record<string, (store: Store) => Promise<void>> = {
  'accounts: insert, find, count; a duplicate id is refused': async (store) => {
    await seed(store)
    assert.deepEqual(await store.accounts.findById(A), account(1))
    assert.equal(await store.accounts.findById(uuid(99)), undefined)
    assert.equal(await store.accounts.count(), 2)
    await assert.rejects(store.accounts.insert(account(1)))
    assert.equal(await store.accounts.count(), 2)
  },

  'users: an email is unique per account (Conflict), free in another; the account must exist': async (store) => {
    await seed(store)
    await assert.rejects(store.users.insert(user(12, A, { email: 'a@example.com' })), (err) => err instanceof Conflict && err.code === 'KEYMINT_EMAIL_TAKEN')
    await store.users.insert(user(13, B, { email: 'a@example.com' }))
    await assert.rejects(store.users.insert(user(14, uuid(99), { email: 'x@example.com' })))
    assert.equal(await store.users.findById(uuid(14)), undefined)
    assert.deepEqual((await store.users.listByAccount(A)).map((u) => u.email), ['a@example.com', 'b@example.com'], 'ordered by email')
    assert.deepEqual(await store.users.findById(uuid(13)), user(13, B, { email: 'a@example.com' }))
  },

  'users: update changes only what the patch names; an unknown user is undefined': async (store) => {
    await seed(store)
    const updated = await store.users.update(uuid(11), { disabled: true, updatedAt: at(5) })
    assert.deepEqual(updated, user(11, A, { email: 'a@example.com', disabled: true, updatedAt: at(5) }))
    const again = await store.users.update(uuid(11), { permissions: ['ui'], scopes: ['s'], tokensCutOffAt: at(6), updatedAt: at(6) })
    assert.deepEqual(again, { ...updated, permissions: ['ui'], scopes: ['s'], tokensCutOffAt: at(6), updatedAt: at(6) })
    assert.deepEqual(await store.users.findById(uuid(11)), again)
    assert.equal(await store.users.update(uuid(99), { disabled: true, updatedAt: at(7) }), undefined)
  },

  'users: listCutOffForAccount lists cut-offs after `since` in that account only': async (store) => {
    await seed(store)
    await store.users.insert(user(12, B, { tokensCutOffAt: at(20) }))
    await store.users.update(uuid(10), { tokensCutOffAt: at(10), updatedAt: at(10) })
    await store.users.update(uuid(11), { tokensCutOffAt: at(20), updatedAt: at(20) })
    const cut = async (since: number) => (await store.users.listCutOffForAccount(A, at(since))).sort((x, y) => x.id.localeCompare(y.id))
    assert.deepEqual(await cut(0), [{ id: uuid(10), tokensCutOffAt: at(10) }, { id: uuid(11), tokensCutOffAt: at(20) }])
    assert.deepEqual(await cut(10), [{ id: uuid(11), tokensCutOffAt: at(20) }], 'strictly after since')
    assert.deepEqual(await cut(20), [])
  },

  'clients: insert, find, update (null clears, empty patch reads), list in creation order': async (store) => {
    await seed(store)
    await store.clients.insert(client(21, A, { createdAt: at(2) }))
    await store.clients.insert(client(20, A, { createdAt: at(2), level: 'user', userId: uuid<UserId>(10), scopes: ['a', 'b'] }))
    await store.clients.insert(client(22, A, { createdAt: at(1), publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'x' }, signingAlg: 'EdDSA' }))
    await assert.rejects(store.clients.insert(client(23, A, { level: 'user', userId: uuid<UserId>(99) })), Error, 'the user must exist')
    await assert.rejects(store.clients.insert(client(24, uuid(99))), Error, 'the account must exist')
    assert.deepEqual((await store.clients.listByAccount(A)).map((c) => c.id), [uuid(22), uuid(20), uuid(21)])
    assert.deepEqual(await store.clients.listByAccount(B), [])
    const updated = await store.clients.update(uuid<ClientId>(20), { scopes: null, lifetimeSeconds: 600, tokenEncryption: 'RSA-OAEP-512', secretAuth: false })
    assert.deepEqual(updated, client(20, A, { createdAt: at(2), level: 'user', userId: uuid<UserId>(10), scopes: null, lifetimeSeconds: 600, tokenEncryption: 'RSA-OAEP-512', secretAuth: false }))
    assert.deepEqual(await store.clients.update(uuid<ClientId>(20), {}), updated)
    assert.deepEqual(await store.clients.update(uuid<ClientId>(22), { publicJwk: null, signingAlg: null, name: 'renamed' }), client(22, A, { createdAt: at(1), name: 'renamed' }))
    assert.equal(await store.clients.update(uuid<ClientId>(99), { name: 'x' }), undefined)
  },

  'clients: rate limit, quota and quota mode round-trip; null clears a limit': async (store) => {
    await seed(store)
    const limited = client(20, A, { rateLimit: { requests: 600, per: 'minute' }, quota: { tokens: 100_000, per: 'month' }, quotaMode: 'monitor' })
    await store.clients.insert(limited)
    assert.deepEqual(await store.clients.findById(uuid(20)), limited)
    const cleared = await store.clients.update(uuid<ClientId>(20), { rateLimit: null, quotaMode: 'enforce' })
    assert.deepEqual(cleared, { ...limited, rateLimit: null, quotaMode: 'enforce' })
    assert.deepEqual(await store.clients.update(uuid<ClientId>(20), { quota: null, rateLimit: { requests: 5, per: 'second' } }), { ...limited, rateLimit: { requests: 5, per: 'second' }, quota: null, quotaMode: 'enforce' })
  },

  'client usage: day counts add up across calls; an overrun is noted once per window; pruning forgets old rows': async (store) => {
    await seed(store)
    await store.clients.insert(client(20, A))
    await store.clients.insert(client(21, A))
    const day = (n: number) => Date.UTC(2030, 0, 1 + n)
    await store.clientUsage.addTokenCounts([{ clientId: uuid(20), day: day(0), tokens: 3 }, { clientId: uuid(20), day: day(1), tokens: 1 }, { clientId: uuid(21), day: day(1), tokens: 7 }])
    await store.clientUsage.addTokenCounts([{ clientId: uuid(20), day: day(1), tokens: 4 }])
    await store.clientUsage.addTokenCounts([])
    await assert.rejects(store.clientUsage.addTokenCounts([{ clientId: uuid(99), day: day(0), tokens: 1 }]), Error, 'the client must exist')
    const counts = async (ids: ClientId[], from: number) => (await store.clientUsage.listTokenCounts(ids, from)).sort((x, y) => x.clientId.localeCompare(y.clientId) || x.day - y.day)
    assert.deepEqual(await counts([uuid(20)], day(0)), [{ clientId: uuid(20), day: day(0), tokens: 3 }, { clientId: uuid(20), day: day(1), tokens: 5 }])
    assert.deepEqual(await counts([uuid(20), uuid(21)], day(1)), [{ clientId: uuid(20), day: day(1), tokens: 5 }, { clientId: uuid(21), day: day(1), tokens: 7 }])
    assert.deepEqual(await counts([], day(0)), [])
    const overrun = { clientId: uuid<ClientId>(20), limit: 'rate' as const, windowStart: at(60), windowEnd: at(120) }
    assert.equal(await store.clientUsage.noteOverrun(overrun, at(61)), true)
    assert.equal(await store.clientUsage.noteOverrun(overrun, at(62)), false, 'the same window again')
    assert.equal(await store.clientUsage.noteOverrun({ ...overrun, limit: 'quota' }, at(62)), true, 'another limit')
    assert.equal(await store.clientUsage.noteOverrun({ ...overrun, windowStart: at(120), windowEnd: at(180) }, at(121)), true, 'the next window')
    await store.clientUsage.prune(day(1), at(120))
    assert.deepEqual(await counts([uuid(20)], day(0)), [{ clientId: uuid(20), day: day(1), tokens: 5 }])
    assert.equal(await store.clientUsage.noteOverrun(overrun, at(130)), true, 'a window that ended is forgotten')
    assert.equal(await store.clientUsage.noteOverrun({ ...overrun, windowStart: at(120), windowEnd: at(180) }, at(130)), false, 'a live one is not')
  },

  'key pairs: newest first; findCredential joins client, plan and user': async (store) => {
    await seed(store)
    await store.clients.insert(client(20, A, { level: 'user', userId: uuid<UserId>(11), scopes: ['a'] }))
    await store.clients.insert(client(21, A))
    await store.keyPairs.insert(keyPair(30, uuid(20), { createdAt: at(1) }))
    await store.keyPairs.insert(keyPair(31, uuid(20), { createdAt: at(2) }))
    await store.keyPairs.insert(keyPair(32, uuid(21)))
    await assert.rejects(store.keyPairs.insert(keyPair(33, uuid(99))), Error, 'the client must exist')
    await assert.rejects(store.keyPairs.insert(keyPair(30, uuid(21))), Error, 'ids are unique')
    assert.deepEqual(await store.keyPairs.listByClient(uuid(20)), [
      { id: uuid(31), clientId: uuid(20), createdAt: at(2), expiresAt: null, revokedAt: null, lifetimeEndsAt: null, lastUsedAt: null, lastUsedAddress: null, lastUsedUserAgent: null, tokensIssued: 0 },
      { id: uuid(30), clientId: uuid(20), createdAt: at(1), expiresAt: null, revokedAt: null, lifetimeEndsAt: null, lastUsedAt: null, lastUsedAddress: null, lastUsedUserAgent: null, tokensIssued: 0 },
    ])
    assert.deepEqual(await store.keyPairs.findCredential(uuid(30)), {
      keyPair: { id: uuid(30), secretHash: Buffer.alloc(32, 30), expiresAt: null, revokedAt: null, lifetimeEndsAt: null },
      client: client(20, A, { level: 'user', userId: uuid<UserId>(11), scopes: ['a'] }),
      accountPlan: 'enterprise',
      user: { id: uuid(11), role: 'member', permissions: ['api', 'ui'], scopes: [], disabled: false, tokensCutOffAt: null },
    })
    assert.equal((await store.keyPairs.findCredential(uuid(32)))?.user, null, 'an account-level client has no user')
    assert.equal(await store.keyPairs.findCredential(uuid(99)), undefined)
  },

  'key pairs: endLive revokes at once, or ends at the grace (a shorter grace keeps its end); ended pairs stay ended': async (store) => {
    await seed(store)
    await store.clients.insert(client(20, A))
    await store.keyPairs.insert(keyPair(30, uuid(20)))
    await store.keyPairs.insert(keyPair(31, uuid(20), { expiresAt: at(50) }))
    await store.keyPairs.insert(keyPair(32, uuid(20), { expiresAt: at(5) }))
    await store.keyPairs.insert(keyPair(33, uuid(20), { revokedAt: at(1) }))
    const graced = await store.keyPairs.endLive(uuid(20), at(10), at(100))
    assert.deepEqual(graced.sort((x, y) => x.id.localeCompare(y.id)), [{ id: uuid(30), endsAt: at(100) }, { id: uuid(31), endsAt: at(50) }])
    const state = async () => Object.fromEntries((await store.keyPairs.listByClient(uuid(20))).map((p) => [p.id.slice(-2), [p.expiresAt, p.revokedAt]]))
    assert.deepEqual(await state(), { 30: [at(100), null], 31: [at(50), null], 32: [at(5), null], 33: [null, at(1)] })
    const shorter = await store.keyPairs.endLive(uuid(20), at(20), at(30))
    assert.deepEqual(shorter.sort((x, y) => x.id.localeCompare(y.id)), [{ id: uuid(30), endsAt: at(30) }, { id: uuid(31), endsAt: at(30) }])
    const revoked = await store.keyPairs.endLive(uuid(20), at(25), null)
    assert.deepEqual(revoked.sort((x, y) => x.id.localeCompare(y.id)), [{ id: uuid(30), endsAt: at(25) }, { id: uuid(31), endsAt: at(25) }])
    assert.deepEqual(await state(), { 30: [at(30), at(25)], 31: [at(30), at(25)], 32: [at(5), null], 33: [null, at(1)] })
    assert.deepEqual(await store.keyPairs.endLive(uuid(20), at(26), null), [])
  },

  'key pairs: revokeOne revokes one live pair of its client, in a grace too, and nothing else': async (store) => {
    await seed(store)
    await store.clients.insert(client(20, A))
    await store.clients.insert(client(21, A))
    await store.keyPairs.insert(keyPair(30, uuid(20)))
    await store.keyPairs.insert(keyPair(31, uuid(20), { expiresAt: at(50) }))
    await store.keyPairs.insert(keyPair(32, uuid(20), { expiresAt: at(5) }))
    await store.keyPairs.insert(keyPair(33, uuid(21)))
    assert.equal(await store.keyPairs.revokeOne(uuid(20), uuid(31), at(10)), true, 'in a grace')
    assert.equal(await store.keyPairs.revokeOne(uuid(20), uuid(31), at(11)), false, 'revoked already')
    assert.equal(await store.keyPairs.revokeOne(uuid(20), uuid(32), at(10)), false, 'its grace ended')
    assert.equal(await store.keyPairs.revokeOne(uuid(20), uuid(33), at(10)), false, "another client's pair")
    assert.equal(await store.keyPairs.revokeOne(uuid(20), uuid(99), at(10)), false, 'unknown')
    const revokedAt = async (clientId: ClientId) => Object.fromEntries((await store.keyPairs.listByClient(clientId)).map((p) => [p.id.slice(-2), p.revokedAt]))
    assert.deepEqual(await revokedAt(uuid(20)), { 30: null, 31: at(10), 32: null })
    assert.deepEqual(await revokedAt(uuid(21)), { 33: null })
  },

  'key pairs: clearGrace makes one pair in its grace active again, and nothing else': async (store) => {
    await seed(store)
    await store.clients.insert(client(20, A))
    await store.clients.insert(client(21, A))
    await store.keyPairs.insert(keyPair(30, uuid(20)))
    await store.keyPairs.insert(keyPair(31, uuid(20), { expiresAt: at(50) }))
    await store.keyPairs.insert(keyPair(32, uuid(20), { expiresAt: at(5) }))
    await store.keyPairs.insert(keyPair(33, uuid(20), { expiresAt: at(50), revokedAt: at(8) }))
    await store.keyPairs.insert(keyPair(34, uuid(21), { expiresAt: at(50) }))
    assert.equal(await store.keyPairs.clearGrace(uuid(20), uuid(30), at(10)), false, 'active already')
    assert.equal(await store.keyPairs.clearGrace(uuid(20), uuid(32), at(10)), false, 'its grace ended')
    assert.equal(await store.keyPairs.clearGrace(uuid(20), uuid(33), at(10)), false, 'revoked')
    assert.equal(await store.keyPairs.clearGrace(uuid(20), uuid(34), at(10)), false, "another client's pair")
    assert.equal(await store.keyPairs.clearGrace(uuid(20), uuid(99), at(10)), false, 'unknown')
    assert.equal(await store.keyPairs.clearGrace(uuid(20), uuid(31), at(10)), true, 'in a grace')
    const ends = async (clientId: ClientId) => Object.fromEntries((await store.keyPairs.listByClient(clientId)).map((p) => [p.id.slice(-2), [p.expiresAt, p.revokedAt]]))
    assert.deepEqual(await ends(uuid(20)), { 30: [null, null], 31: [null, null], 32: [at(5), null], 33: [at(50), at(8)] })
    assert.deepEqual(await ends(uuid(21)), { 34: [at(50), null] })
  },

  'key pairs: ended per account, live per user, hashed otherwise, usage': async (store) => {
    await seed(store)
    await store.users.insert(user(12, B))
    await store.clients.insert(client(20, A, { level: 'user', userId: uuid<UserId>(10) }))
    await store.clients.insert(client(21, A, { level: 'user', userId: uuid<UserId>(11) }))
    await store.clients.insert(client(22, B, { level: 'user', userId: uuid<UserId>(12) }))
    await store.keyPairs.insert(keyPair(30, uuid(20)))
    await store.keyPairs.insert(keyPair(31, uuid(20), { revokedAt: at(10) }))
    await store.keyPairs.insert(keyPair(32, uuid(21), { expiresAt: at(20), hashKeyId: 'hash-key-0' }))
    await store.keyPairs.insert(keyPair(33, uuid(21), { revokedAt: at(30), expiresAt: at(15) }))
    await store.keyPairs.insert(keyPair(34, uuid(22), { revokedAt: at(10) }))
    const ended = async (since: number, now: number) => (await store.keyPairs.listEndedForAccount(A, at(since), at(now))).sort((x, y) => x.id.localeCompare(y.id))
    assert.deepEqual(await ended(0, 100), [{ id: uuid(31), endedAt: at(10) }, { id: uuid(32), endedAt: at(20) }, { id: uuid(33), endedAt: at(15) }])
    assert.deepEqual(await ended(10, 25), [{ id: uuid(32), endedAt: at(20) }], 'after since, by now')
    assert.deepEqual(await ended(0, 5), [])
    const liveFor = async (ids: UserId[], now: number) => (await store.keyPairs.listLiveForUsers(ids, at(now))).sort((x, y) => x.id.localeCompare(y.id))
    assert.deepEqual(await liveFor([uuid(10), uuid(11), uuid(12)], 5), [
      { id: uuid(30), userId: uuid<UserId>(10) }, { id: uuid(32), userId: uuid<UserId>(11) },
    ])
    assert.deepEqual(await liveFor([uuid(11)], 20), [], 'a grace ends at its expiry')
    assert.deepEqual(await liveFor([], 5), [])
    assert.equal(await store.keyPairs.countLiveHashedOtherwise('hash-key-1', at(5)), 1)
    await store.keyPairs.replaceSecretHash(uuid(32), Buffer.alloc(32, 7), 'hash-key-1')
    assert.equal(await store.keyPairs.countLiveHashedOtherwise('hash-key-1', at(5)), 0)
    assert.deepEqual((await store.keyPairs.findCredential(uuid(32)))?.keyPair.secretHash, Buffer.alloc(32, 7))
    const use = (s: number, tokens: number, address: string) => ({ lastUsedAt: at(s), address, userAgent: `agent ${address}`, tokens })
    await store.keyPairs.recordUsage(new Map([[uuid<KeyPairId>(30), use(40, 3, '192.0.2.1')], [uuid<KeyPairId>(99), use(40, 1, '192.0.2.9')]]))
    await store.keyPairs.recordUsage(new Map([[uuid<KeyPairId>(30), use(35, 2, '192.0.2.2')]]))
    const [pair] = (await store.keyPairs.listByClient(uuid(20))).filter((p) => p.id === uuid(30))
    assert.deepEqual([pair?.lastUsedAt, pair?.tokensIssued], [at(40), 5], 'last use only moves forward; counts add up')
    assert.deepEqual([pair?.lastUsedAddress, pair?.lastUsedUserAgent], ['192.0.2.1', 'agent 192.0.2.1'], 'the address of the latest use stays with it')
    await store.keyPairs.recordUsage(new Map([[uuid<KeyPairId>(30), { lastUsedAt: at(50), address: null, userAgent: null, tokens: 1 }]]))
    const [later] = (await store.keyPairs.listByClient(uuid(20))).filter((p) => p.id === uuid(30))
    assert.deepEqual([later?.lastUsedAt, later?.lastUsedAddress, later?.lastUsedUserAgent], [at(50), null, null], 'a later use without them clears them')
  },

  'key pairs: a lifetime ends a pair for every live check, and an expired pair is ended in the feed from then on': async (store) => {
    await seed(store)
    await store.clients.insert(client(20, A, { level: 'user', userId: uuid<UserId>(10) }))
    await store.keyPairs.insert(keyPair(30, uuid(20), { lifetimeEndsAt: at(50) }))
    await store.keyPairs.insert(keyPair(31, uuid(20), { lifetimeEndsAt: at(80) }))
    assert.deepEqual((await store.keyPairs.listLiveForUsers([uuid(10)], at(49))).map((p) => p.id).sort(), [uuid(30), uuid(31)])
    assert.deepEqual((await store.keyPairs.listLiveForUsers([uuid(10)], at(50))).map((p) => p.id), [uuid(31)], 'at its lifetime end it no longer works')
    assert.equal(await store.keyPairs.countLiveHashedOtherwise('hash-key-0', at(55)), 1)
    assert.equal(await store.keyPairs.revokeOne(uuid(20), uuid(30), at(55)), false, 'an expired pair is not revoked again')
    assert.deepEqual(await store.keyPairs.endLive(uuid(20), at(55), null), [{ id: uuid(31), endsAt: at(55) }], 'nor ended by a rotation')
    assert.deepEqual((await store.keyPairs.listEndedForAccount(A, at(0), at(100))).sort((x, y) => x.id.localeCompare(y.id)), [
      { id: uuid(30), endedAt: at(50) }, { id: uuid(31), endedAt: at(55) },
    ])
    assert.deepEqual(await store.keyPairs.listEndedForAccount(A, at(0), at(49)), [])
    assert.deepEqual((await store.keyPairs.findCredential(uuid(30)))?.keyPair.lifetimeEndsAt, at(50))
    assert.deepEqual((await store.keyPairs.listByClient(uuid(20))).map((p) => p.lifetimeEndsAt), [at(50), at(80)])
  },

  'key pairs: listExpiring lists pairs nothing ends before their lifetime, with the notices sent; a notice is recorded once': async (store) => {
    await seed(store)
    await store.clients.insert(client(20, A))
    await store.clients.insert(client(21, B))
    await store.keyPairs.insert(keyPair(30, uuid(20), { lifetimeEndsAt: at(500) }))
    await store.keyPairs.insert(keyPair(31, uuid(20), { lifetimeEndsAt: at(100) }))
    await store.keyPairs.insert(keyPair(32, uuid(20), { lifetimeEndsAt: at(200), revokedAt: at(150) }))
    await store.keyPairs.insert(keyPair(33, uuid(20), { lifetimeEndsAt: at(200), expiresAt: at(300) }))
    await store.keyPairs.insert(keyPair(34, uuid(20), { lifetimeEndsAt: at(200), expiresAt: at(190) }))
    await store.keyPairs.insert(keyPair(35, uuid(20)))
    await store.keyPairs.insert(keyPair(36, uuid(21), { lifetimeEndsAt: at(300) }))
    const ids = (list: { id: string }[]) => list.map((p) => p.id.slice(-2))
    assert.deepEqual(ids(await store.keyPairs.listExpiring({ until: at(400) })), ['31', '33', '36'], 'soonest first; revoked or graced before their lifetime, no')
    assert.deepEqual(ids(await store.keyPairs.listExpiring({ until: at(400), accountId: B })), ['36'])
    assert.equal(await store.keyPairs.recordExpiryNotice(uuid(31), '30d', at(1)), true)
    assert.equal(await store.keyPairs.recordExpiryNotice(uuid(31), '30d', at(2)), false, 'once per pair and horizon')
    assert.equal(await store.keyPairs.recordExpiryNotice(uuid(31), '7d', at(3)), true)
    await assert.rejects(store.keyPairs.recordExpiryNotice(uuid(99), '7d', at(3)), Error, 'the pair must exist')
    const [first] = await store.keyPairs.listExpiring({ until: at(400) })
    assert.deepEqual([first?.id, first?.clientId, first?.clientName, first?.accountId, first?.lifetimeEndsAt, [...first?.noticesSent ?? []].sort()],
      [uuid(31), uuid(20), 'client 20', A, at(100), ['30d', '7d']])
    assert.equal(await store.keyPairs.recordExpiryNotice(uuid(31), 'expired', at(100)), true)
    assert.deepEqual(ids(await store.keyPairs.listExpiring({ until: at(400) })), ['33', '36'], 'once its expiry is announced it is left out')
  },

  'accounts: update changes only the settings it names': async (store) => {
    await seed(store)
    assert.deepEqual(await store.accounts.update(A, { defaultKeyExpiresIn: 3600 }), account(1, { defaultKeyExpiresIn: 3600 }))
    assert.deepEqual(await store.accounts.update(A, { maxKeyExpiresIn: 7200, requireAdminSecondFactor: true }), account(1, { defaultKeyExpiresIn: 3600, maxKeyExpiresIn: 7200, requireAdminSecondFactor: true }))
    assert.deepEqual(await store.accounts.update(A, { defaultKeyExpiresIn: null }), account(1, { maxKeyExpiresIn: 7200, requireAdminSecondFactor: true }))
    assert.deepEqual(await store.accounts.findById(A), account(1, { maxKeyExpiresIn: 7200, requireAdminSecondFactor: true }))
    assert.equal(await store.accounts.update(uuid(99), { maxKeyExpiresIn: 1 }), undefined)
  },

  'server keys: newest first; retire once; reseal': async (store) => {
    const key = (kid: string, created: number) => ({
      kid, use: 'sig' as const, alg: 'EdDSA', publicJwk: { kty: 'OKP', x: kid }, privateKeySealed: `sealed ${kid}`, createdAt: at(created), activatesAt: at(created), retiredAt: null,
    })
    await store.serverKeys.insert(key('k1', 1))
    await store.serverKeys.insert(key('k2', 2))
    await assert.rejects(store.serverKeys.insert(key('k1', 3)))
    assert.deepEqual((await store.serverKeys.listAll()).map((k) => k.kid), ['k2', 'k1'])
    assert.equal(await store.serverKeys.retire('k1', at(5)), true)
    assert.equal(await store.serverKeys.retire('k1', at(6)), false, 'retired once')
    assert.equal(await store.serverKeys.retire('nope', at(6)), false)
    await store.serverKeys.reseal('k2', 'resealed')
    assert.deepEqual(await store.serverKeys.listAll(), [{ ...key('k2', 2), privateKeySealed: 'resealed' }, { ...key('k1', 1), retiredAt: at(5) }])
  },

  'revoked tokens: recorded once, listed in revocation order, purged after expiry': async (store) => {
    const token = (jti: string, revoked: number, expires: number, accountId = A) => ({ jti, accountId, revokedAt: at(revoked), expiresAt: at(expires) })
    await store.revokedTokens.insert(token('b', 2, 100))
    await store.revokedTokens.insert(token('a', 2, 10))
    await store.revokedTokens.insert(token('c', 1, 100, B))
    await store.revokedTokens.insert(token('a', 3, 50))
    assert.deepEqual(await store.revokedTokens.listRevokedSince(at(0), 10), [token('c', 1, 100, B), token('a', 2, 10), token('b', 2, 100)])
    assert.deepEqual((await store.revokedTokens.listRevokedSince(at(1), 1)).map((r) => r.jti), ['a'])
    assert.deepEqual((await store.revokedTokens.listForAccount(A, at(0), at(10))).map((r) => r.jti), ['b'], 'expired tokens are not listed')
    assert.equal(await store.revokedTokens.purgeExpired(at(10)), 1)
    assert.deepEqual((await store.revokedTokens.listRevokedSince(at(0), 10)).map((r) => r.jti), ['c', 'b'])
  },

  'audit: newest first, by account and time, paged after an event; details as JSON': async (store) => {
    const event = (id: string, created: number, accountId: AccountId | null) =>
      ({ ...auditEvent({ accountId, actor: 'cli', action: 'account.created', createdAt: at(created), details: { n: created, gone: undefined } }), id })
    await store.audit.insert([event('e1', 1, A), event('e3', 2, A), event('e2', 2, A), event('e4', 3, null), event('e5', 4, B)])
    await store.audit.insert([])
    const ids = async (query: Parameters<Store['audit']['list']>[0]) => (await store.audit.list(query)).map((e) => e.id)
    assert.deepEqual(await ids({ limit: 10 }), ['e5', 'e4', 'e2', 'e3', 'e1'])
    assert.deepEqual(await ids({ accountId: A, limit: 10 }), ['e2', 'e3', 'e1'])
    assert.deepEqual(await ids({ since: at(2), limit: 2 }), ['e5', 'e4'])
    assert.deepEqual(await ids({ accountId: A, after: { time: at(2), id: 'e2' }, limit: 10 }), ['e3', 'e1'])
    const [first] = await store.audit.list({ accountId: B, limit: 1 })
    assert.deepEqual(first, { id: 'e5', accountId: B, actor: 'cli', action: 'account.created', target: null, reason: null, count: 1, details: { n: 4 }, createdAt: at(4) })
  },

  'client assertions: an id works once until it expires': async (store) => {
    assert.equal(await store.clientAssertions.remember('c:j1', at(10), at(0)), true)
    assert.equal(await store.clientAssertions.remember('c:j1', at(10), at(5)), false)
    assert.equal(await store.clientAssertions.remember('c:j1', at(20), at(10)), true, 'forgotten once expired')
  },

  'dpop proofs: an id is accepted once until its time is over; purged after': async (store) => {
    assert.equal(await store.dpopProofs.remember('p1', at(10), at(0)), true)
    assert.equal(await store.dpopProofs.remember('p1', at(30), at(9)), false, 'a replay within its time')
    assert.equal(await store.dpopProofs.remember('p2', at(20), at(9)), true)
    assert.equal(await store.dpopProofs.remember('p1', at(40), at(10)), true, 'taken over once its time is over')
    assert.equal(await store.dpopProofs.remember('p1', at(40), at(39)), false, 'with the new time')
    assert.equal(await store.dpopProofs.purgeExpired(at(20)), 1)
    assert.equal(await store.dpopProofs.remember('p2', at(50), at(21)), true, 'purged')
  },

  'apis: an identifier belongs to one account (Conflict); lists by identifier; found per account': async (store) => {
    await seed(store)
    await store.apis.insert(api(41, A, { identifier: 'https://z.example.com' }))
    await store.apis.insert(api(40, A, { identifier: 'https://b.example.com', encryption: { kid: 'k', alg: 'ECDH-ES', publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } } }))
    for (const [accountId, id] of [[B, 42], [A, 43]] as const) {
      await assert.rejects(store.apis.insert(api(id, accountId, { identifier: 'https://z.example.com' })), (err) => err instanceof Conflict && err.code === 'KEYMINT_API_EXISTS')
    }
    await assert.rejects(store.apis.insert(api(44, uuid(99))), Error, 'the account must exist')
    assert.deepEqual((await store.apis.listByAccount(A)).map((x) => x.identifier), ['https://b.example.com', 'https://z.example.com'])
    assert.deepEqual(await store.apis.listByAccount(B), [])
    assert.deepEqual(await store.apis.findByIdentifier(A, 'https://b.example.com'), api(40, A, { identifier: 'https://b.example.com', encryption: { kid: 'k', alg: 'ECDH-ES', publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } } }))
    assert.equal(await store.apis.findByIdentifier(B, 'https://b.example.com'), undefined)
  },

  'accounts: setRequireAdminSecondFactor sets the flag; an unknown account is undefined': async (store) => {
    await seed(store)
    assert.deepEqual(await store.accounts.setRequireAdminSecondFactor(A, true), account(1, { requireAdminSecondFactor: true }))
    assert.deepEqual(await store.accounts.findById(A), account(1, { requireAdminSecondFactor: true }))
    assert.deepEqual(await store.accounts.setRequireAdminSecondFactor(A, false), account(1))
    assert.equal(await store.accounts.setRequireAdminSecondFactor(uuid(99), true), undefined)
  },

  'second factors: pending, enabled, steps only forward, cleared with the recovery codes': async (store) => {
    await seed(store)
    const [admin, member] = [uuid<UserId>(10), uuid<UserId>(11)]
    assert.equal(await store.secondFactors.findTotp(admin), undefined)
    assert.equal(await store.secondFactors.enableTotp(admin, 5, at(1)), false, 'nothing pending')
    assert.equal(await store.secondFactors.acceptTotpStep(admin, 5), false, 'nothing enabled')
    assert.equal(await store.secondFactors.setPendingTotp(admin, 'sealed-1'), true)
    assert.equal(await store.secondFactors.setPendingTotp(admin, 'sealed-2'), true, 'a pending secret is replaced')
    assert.deepEqual(await store.secondFactors.findTotp(admin), { secretSealed: 'sealed-2', enabledAt: null, lastStep: null })
    assert.equal(await store.secondFactors.acceptTotpStep(admin, 5), false, 'a pending secret takes no code')
    assert.equal(await store.secondFactors.enableTotp(admin, 5, at(2)), true)
    assert.equal(await store.secondFactors.enableTotp(admin, 6, at(3)), false, 'enabled once')
    assert.deepEqual(await store.secondFactors.findTotp(admin), { secretSealed: 'sealed-2', enabledAt: at(2), lastStep: 5 })
    assert.deepEqual((await store.users.findById(admin))?.updatedAt, at(2))
    assert.equal(await store.secondFactors.setPendingTotp(admin, 'sealed-3'), false, 'an enabled secret is not replaced')
    assert.equal(await store.secondFactors.acceptTotpStep(admin, 5), false, 'the same step again')
    assert.equal(await store.secondFactors.acceptTotpStep(admin, 4), false, 'an earlier step')
    assert.equal(await store.secondFactors.acceptTotpStep(admin, 7), true)
    assert.equal((await store.secondFactors.findTotp(admin))?.lastStep, 7)
    assert.equal(await store.secondFactors.findTotp(member), undefined, 'per user')
    await store.secondFactors.replaceRecoveryCodes(admin, ['h1', 'h2'], at(4))
    assert.equal(await store.secondFactors.clear(admin, at(5)), true)
    assert.equal(await store.secondFactors.clear(admin, at(6)), false)
    assert.equal(await store.secondFactors.findTotp(admin), undefined)
    assert.equal(await store.secondFactors.countRecoveryCodesLeft(admin), 0, 'the recovery codes went with it')
    assert.deepEqual((await store.users.findById(admin))?.updatedAt, at(5))
    assert.equal(await store.secondFactors.setPendingTotp(uuid(99), 'sealed'), false, 'no such user')
  },

  'second factors: sealed secrets listed by user id and re-sealed in place': async (store) => {
    await seed(store)
    const [admin, member] = [uuid<UserId>(10), uuid<UserId>(11)]
    await store.secondFactors.setPendingTotp(member, 'sealed-m')
    await store.secondFactors.setPendingTotp(admin, 'sealed-a')
    await store.secondFactors.enableTotp(admin, 3, at(1))
    assert.deepEqual(await store.secondFactors.listSealedSecrets(), [{ userId: admin, secretSealed: 'sealed-a' }, { userId: member, secretSealed: 'sealed-m' }])
    await store.secondFactors.resealSecret(admin, 'resealed-a')
    assert.deepEqual(await store.secondFactors.findTotp(admin), { secretSealed: 'resealed-a', enabledAt: at(1), lastStep: 3 })
    await store.secondFactors.clear(member, at(2))
    await store.secondFactors.resealSecret(member, 'resealed-m')
    assert.equal(await store.secondFactors.findTotp(member), undefined, 'nothing to re-seal: nothing written')
    assert.deepEqual(await store.secondFactors.listSealedSecrets(), [{ userId: admin, secretSealed: 'resealed-a' }])
  },

  'recovery codes: each used once, per user; replacing drops the old ones; the user must exist': async (store) => {
    await seed(store)
    const [admin, member] = [uuid<UserId>(10), uuid<UserId>(11)]
    await store.secondFactors.replaceRecoveryCodes(admin, ['h1', 'h2', 'h3'], at(1))
    await store.secondFactors.replaceRecoveryCodes(member, ['h1'], at(1))
    assert.equal(await store.secondFactors.countRecoveryCodesLeft(admin), 3)
    assert.equal(await store.secondFactors.useRecoveryCode(admin, 'h2', at(2)), true)
    assert.equal(await store.secondFactors.useRecoveryCode(admin, 'h2', at(3)), false, 'used already')
    assert.equal(await store.secondFactors.useRecoveryCode(admin, 'h9', at(3)), false, 'no such code')
    assert.equal(await store.secondFactors.countRecoveryCodesLeft(admin), 2)
    assert.equal(await store.secondFactors.countRecoveryCodesLeft(member), 1, 'another user\'s codes are their own')
    assert.equal(await store.secondFactors.useRecoveryCode(member, 'h2', at(3)), false)
    await store.secondFactors.replaceRecoveryCodes(admin, ['h4', 'h2'], at(4))
    assert.equal(await store.secondFactors.countRecoveryCodesLeft(admin), 2)
    assert.equal(await store.secondFactors.useRecoveryCode(admin, 'h1', at(5)), false, 'replaced')
    assert.equal(await store.secondFactors.useRecoveryCode(admin, 'h2', at(5)), true, 'a new code with an old hash is unused')
    await assert.rejects(store.secondFactors.replaceRecoveryCodes(uuid(99), ['h1'], at(6)))
  },

  'webhooks: endpoints by account; the outbox claims what is due and unleased, records attempts, and deletes with its endpoint': async (store) => {
    await seed(store)
    const endpoint = (n: number, accountId: AccountId) => ({
      id: uuid(n), accountId, url: `https://hooks${n}.example.com/`, events: ['key_pair.revoked' as const], secretSealed: `sealed ${n}`, createdAt: at(n), disabled: false,
    })
    await store.webhooks.insertEndpoint(endpoint(41, A))
    await store.webhooks.insertEndpoint(endpoint(40, A))
    await store.webhooks.insertEndpoint(endpoint(42, B))
    await assert.rejects(store.webhooks.insertEndpoint(endpoint(43, uuid(99))))
    assert.deepEqual((await store.webhooks.listEndpoints(A)).map((e) => e.id), [uuid(40), uuid(41)], 'oldest first')
    assert.deepEqual(await store.webhooks.findEndpoint(uuid(42)), endpoint(42, B))
    const delivery = (id: string, endpointId: string, s: number) => ({ id, endpointId, eventType: 'key_pair.revoked' as const, payload: `{"n":"${id}"}`, createdAt: at(s) })
    await store.webhooks.enqueue([delivery('m1', uuid(40), 10), delivery('m2', uuid(40), 20), delivery('m3', uuid(42), 30)])
    await assert.rejects(store.webhooks.enqueue([delivery('m4', uuid(99), 10)]))
    const lease = (token: string, until: number) => ({ token, until: at(until) })
    const first = await store.webhooks.claimDue(at(20), lease('t1', 80), 10)
    assert.deepEqual(first.map((d) => [d.id, d.url, d.secretSealed, d.attempts]), [['m1', 'https://hooks40.example.com/', 'sealed 40', 0], ['m2', 'https://hooks40.example.com/', 'sealed 40', 0]])
    assert.deepEqual(await store.webhooks.claimDue(at(30), lease('t2', 90), 10).then((c) => c.map((d) => d.id)), ['m3'], 'leased ones are not claimed again')
    assert.equal(await store.webhooks.recordAttempt('m1', 't2', { kind: 'delivered', at: at(21), status: 204 }), false, "another claim's token records nothing")
    assert.equal(await store.webhooks.recordAttempt('m1', 't1', { kind: 'delivered', at: at(21), status: 204 }), true)
    assert.equal(await store.webhooks.recordAttempt('m2', 't1', { kind: 'retry', at: at(21), next: at(26), status: 503, error: 'HTTP 503' }), true)
    assert.equal(await store.webhooks.recordAttempt('m3', 't2', { kind: 'failed', at: at(31), status: null, error: 'ECONNREFUSED' }), true)
    assert.equal(await store.webhooks.recordAttempt('m3', 't2', { kind: 'delivered', at: at(32), status: 204 }), false, 'recording releases the lease')
    assert.equal(await store.webhooks.extendLease('m1', lease('t1', 99)), false, 'nor can it be extended after')
    assert.deepEqual(await store.webhooks.claimDue(at(25), lease('t3', 85), 10), [], 'not due before its next attempt')
    assert.deepEqual((await store.webhooks.claimDue(at(26), lease('t3', 86), 10)).map((d) => [d.id, d.attempts, d.lastStatus, d.lastError]), [['m2', 1, 503, 'HTTP 503']])
    assert.equal(await store.webhooks.extendLease('m2', lease('t3', 100)), true)
    assert.deepEqual(await store.webhooks.claimDue(at(87), lease('t4', 147), 10), [], 'an extended lease holds past the end of its claim')
    assert.deepEqual((await store.webhooks.claimDue(at(100), lease('t4', 160), 10)).map((d) => d.id), ['m2'], 'a lease that ran out is claimed again')
    assert.equal(await store.webhooks.extendLease('m2', lease('t3', 200)), false, 'the claim it ran out on holds it no more')
    assert.equal(await store.webhooks.recordAttempt('m2', 't3', { kind: 'delivered', at: at(101), status: 204 }), false)
    const log = await store.webhooks.listDeliveries(uuid(40), 10)
    assert.deepEqual(log.map((d) => [d.id, d.deliveredAt, d.failedAt]), [['m2', null, null], ['m1', at(21), null]], 'newest first')
    assert.deepEqual((await store.webhooks.listDeliveries(uuid(42), 10)).map((d) => [d.failedAt, d.lastError]), [[at(31), 'ECONNREFUSED']])
    await store.webhooks.resealSecret(uuid(40), 'resealed')
    assert.deepEqual((await store.webhooks.listSealedSecrets()).map((s) => s.secretSealed), ['resealed', 'sealed 41', 'sealed 42'])
    assert.equal(await store.webhooks.deleteEndpoint(uuid(40)), true)
    assert.equal(await store.webhooks.deleteEndpoint(uuid(40)), false)
    assert.deepEqual(await store.webhooks.listDeliveries(uuid(40), 10), [])
  },

  'transactions: a throw writes nothing, a return commits; nested ones join the outer one': async (store) => {
    await seed(store)
    await assert.rejects(store.transaction(async (tx) => {
      await tx.clients.insert(client(20, A))
      await tx.transaction(async (inner) => inner.keyPairs.insert(keyPair(30, uuid(20))))
      await tx.users.update(uuid(10), { disabled: true, updatedAt: at(9) })
      assert.ok(await tx.keyPairs.findCredential(uuid(30)), 'the transaction reads its own writes')
      throw new Error('abort')
    }), /abort/)
    assert.equal(await store.clients.findById(uuid(20)), undefined)
    assert.deepEqual(await store.keyPairs.listByClient(uuid(20)), [])
    assert.equal((await store.users.findById(uuid(10)))?.disabled, false)
    const result = await store.transaction(async (tx) => {
      await tx.clients.insert(client(20, A))
      await tx.keyPairs.insert(keyPair(30, uuid(20)))
      return 'done'
    }, { lock: 'test' })
    assert.equal(result, 'done')
    assert.equal((await store.keyPairs.listByClient(uuid(20))).length, 1)
  },
}

for (const impl of implementations) {
  describe(`store contract [${impl.name}]`, () => {
    for (const [name, scenario] of Object.entries(scenarios)) {
      test(name, async (t) => scenario(await impl.open(t)))
    }
  })
}
