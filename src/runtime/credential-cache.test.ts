import assert from 'node:assert/strict'
import { test } from 'node:test'
import { account, client, keyPair, user, uuid } from '../../test/fakes/records.js'
import type { ClientCredential, ClientId, KeyPairId } from '../domain/types.js'
import { TemporarilyUnavailable } from '../oauth/errors.js'
import { DatabaseUnavailable } from '../store/database.js'
import { CREDENTIAL_CACHE_DEFAULTS, CredentialCache, type CredentialCacheOptions } from './credential-cache.js'

function credentialOf(n: number): ClientCredential {
  const a = account(1)
  const u = user(100 + n, a.id)
  const c = client(200 + n, a.id, { level: 'user', userId: u.id })
  const k = keyPair(300 + n, c.id as ClientId)
  return { keyPair: { id: k.id, secretHash: k.secretHash, expiresAt: null, revokedAt: null, lifetimeEndsAt: null }, client: c, accountPlan: 'enterprise', user: { ...u } }
}

/** A database of credentials whose reads the test can count, hold up and fail. */
function world(opts: Partial<CredentialCacheOptions> = {}) {
  const rows = new Map<string, ClientCredential>()
  for (const n of [1, 2, 3]) rows.set(credentialOf(n).keyPair.id, credentialOf(n))
  let now = 1000
  let freshAsOf = Number.NEGATIVE_INFINITY
  let onAsk: (() => void) | undefined
  let failing: Error | undefined
  let held: (() => void)[] | undefined
  const reads: string[] = []
  const health = {
    down: false,
    noted: [] as unknown[],
    noteError(err: unknown) { if (err instanceof DatabaseUnavailable) { this.down = true; this.noted.push(err) } },
    noteReachable() { this.down = false },
  }
  const cache = new CredentialCache({ ...CREDENTIAL_CACHE_DEFAULTS, maxStaleMs: 60_000, ...opts }, {
    load: async (id) => {
      // The row as it is when the read starts; the answer may come later.
      const row = rows.get(id)
      const failure = failing
      reads.push(id)
      if (held) await new Promise<void>((resolve) => held!.push(resolve))
      if (failure) throw failure
      return row
    },
    freshAsOf: () => { onAsk?.(); return freshAsOf },
    now: () => now,
    health,
  })
  return {
    cache, rows, reads, health,
    id: (n: number) => credentialOf(n).keyPair.id,
    advance: (ms: number) => { now += ms },
    vouch: () => { freshAsOf = now },
    fail: (err: Error | undefined) => { failing = err },
    hold: () => { held = [] },
    /** What the feed does when asked (SQLite's reads its data version, and may invalidate). */
    whenAsked: (fn: (() => void) | undefined) => { onAsk = fn },
    release: () => { const h = held ?? []; held = undefined; for (const r of h) r() },
  }
}

const unreachable = () => new DatabaseUnavailable('the database cannot serve now (ECONNREFUSED)')

test('a key pair is read once; after that it comes from memory while the change feed vouches for it', async () => {
  const w = world()
  assert.equal((await w.cache.get(w.id(1)))?.keyPair.id, w.id(1))
  for (let i = 0; i < 5; i++) {
    w.advance(400)
    w.vouch()
    await w.cache.get(w.id(1))
  }
  assert.deepEqual(w.reads, [w.id(1)])
  assert.deepEqual([w.cache.counts.miss, w.cache.counts.hit], [1, 5])
})

test('without the feed vouching (listener away), an entry is read again once it is a second old', async () => {
  const w = world()
  await w.cache.get(w.id(1))
  w.advance(900)
  await w.cache.get(w.id(1))
  w.advance(200)
  await w.cache.get(w.id(1))
  assert.deepEqual(w.reads, [w.id(1), w.id(1)])
})

test('a feed that learns of a change when asked (SQLite) has it applied before the entry is used', async () => {
  const w = world()
  await w.cache.get(w.id(1))
  w.rows.set(w.id(1), { ...credentialOf(1), accountPlan: 'standard' })
  w.whenAsked(() => { w.vouch(); w.cache.invalidate(['*']); w.whenAsked(undefined) })
  assert.equal((await w.cache.get(w.id(1)))?.accountPlan, 'standard')
})

test('invalidation drops exactly what it names: a key pair, a client, a user, an account, or everything', async () => {
  const w = world()
  const [one, two, three] = [1, 2, 3].map(credentialOf) as [ClientCredential, ClientCredential, ClientCredential]
  const load = async () => { for (const n of [1, 2, 3]) await w.cache.get(w.id(n)) }
  await load()
  for (const [subject, dropped] of [
    [`k:${one.keyPair.id}`, 1], [`c:${two.client.id}`, 1], [`u:${three.user!.id}`, 1], [`a:${one.client.accountId}`, 3], ['*', 3], [`c:${uuid(999)}`, 0],
  ] as const) {
    w.vouch()
    w.reads.length = 0
    w.cache.invalidate([subject])
    await load()
    assert.equal(w.reads.length, dropped, subject)
  }
})

test('a read that overlaps an invalidation answers the requests already waiting, is not kept, and is not joined after it', async () => {
  const w = world()
  w.hold()
  const before = w.cache.get(w.id(1))
  await Promise.resolve()
  // The change commits while the read is out: a request after it must not get the old read.
  w.rows.set(w.id(1), { ...credentialOf(1), client: { ...credentialOf(1).client, disabled: true } })
  w.cache.invalidate([`k:${w.id(1)}`])
  const after = w.cache.get(w.id(1))
  w.release()
  await Promise.resolve()
  w.release()
  assert.equal((await before)?.client.disabled, false)
  assert.equal((await after)?.client.disabled, true)
  assert.equal(w.reads.length, 2)
  w.vouch()
  assert.equal((await w.cache.get(w.id(1)))?.client.disabled, true)
  assert.equal(w.reads.length, 2, 'the second read was kept')
})

test('database unreachable: an entry known fresh within the stale limit keeps answering; past it, or unknown, 503', async () => {
  const w = world({ maxStaleMs: 10_000 })
  await w.cache.get(w.id(1))
  w.vouch()
  w.fail(unreachable())
  w.advance(2000)
  assert.equal((await w.cache.get(w.id(1)))?.keyPair.id, w.id(1), 'stale, from memory')
  assert.equal(w.health.down, true, 'the failed re-read was noted')
  await assert.rejects(w.cache.get(w.id(2)), DatabaseUnavailable, 'never seen: nothing to answer from')
  const readsWhileDown = w.reads.length
  w.advance(7000)
  await w.cache.get(w.id(1))
  assert.equal(w.reads.length, readsWhileDown, 'while known down, no read is tried')
  w.advance(1001)
  await assert.rejects(w.cache.get(w.id(1)), DatabaseUnavailable, 'past the stale limit')
  assert.equal(w.cache.counts.stale, 2)
  w.fail(undefined)
  w.health.noteReachable()
  assert.equal((await w.cache.get(w.id(1)))?.keyPair.id, w.id(1), 'back by itself once the database is')
})

test('a stale limit of 0 serves nothing from memory once the feed stops vouching and the database is unreachable', async () => {
  const w = world({ maxStaleMs: 0 })
  await w.cache.get(w.id(1))
  w.vouch()
  w.fail(unreachable())
  w.advance(1500)
  await assert.rejects(w.cache.get(w.id(1)), DatabaseUnavailable)
})

test('a database that hangs: a usable stale entry answers after a short wait, and the late read is still kept', async () => {
  const w = world({ revalidateWaitMs: 20 })
  await w.cache.get(w.id(1))
  w.advance(1500)
  w.hold()
  assert.equal((await w.cache.get(w.id(1)))?.keyPair.id, w.id(1))
  assert.equal(w.cache.counts.stale, 1)
  w.release()
  await new Promise((resolve) => setImmediate(resolve))
  await w.cache.get(w.id(1))
  assert.equal(w.reads.length, 2, 'the late read made the entry fresh again')
})

test('unknown ids are never kept, and past a budget of lookups that found nothing, misses are shed (503) until it refills', async () => {
  const w = world({ unknownPerSecond: 5 })
  for (let i = 0; i < 5; i++) assert.equal(await w.cache.get(uuid<KeyPairId>(1000 + i)), undefined)
  assert.equal(w.cache.size, 0)
  await assert.rejects(w.cache.get(uuid<KeyPairId>(2000)), (e) => e instanceof TemporarilyUnavailable && e.status === 503 && e.retryAfterSeconds === 1)
  await assert.rejects(w.cache.get(w.id(1)), TemporarilyUnavailable, 'a known pair not yet in memory waits for the budget too')
  w.advance(400)
  assert.equal((await w.cache.get(w.id(1)))?.keyPair.id, w.id(1))
  assert.equal(w.cache.counts.shed, 2)
})

test('lookups of ids not in memory: a few at once, a bounded queue, the rest shed; repeats of one id share a read', async () => {
  const w = world({ missConcurrency: 2, missQueue: 2 })
  w.hold()
  const same = [w.cache.get(w.id(1)), w.cache.get(w.id(1))]
  const others = [w.cache.get(w.id(2)), w.cache.get(w.id(3)), w.cache.get(uuid<KeyPairId>(7))]
  await assert.rejects(w.cache.get(uuid<KeyPairId>(8)), TemporarilyUnavailable)
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(w.reads, [w.id(1), w.id(2)], 'two reads at once')
  for (let i = 0; i < 5; i++) {
    w.release()
    w.hold()
    await new Promise((resolve) => setImmediate(resolve))
  }
  w.release()
  const results = await Promise.all([...same, ...others])
  assert.deepEqual(results.map((c) => c?.keyPair.id), [w.id(1), w.id(1), w.id(2), w.id(3), undefined])
  assert.equal(w.reads.length, 4)
})

test('memory is bounded: past the limit, the entry loaded longest ago goes', async () => {
  const w = world({ maxEntries: 2 })
  for (const n of [1, 2, 3]) await w.cache.get(w.id(n))
  assert.equal(w.cache.size, 2)
  w.vouch()
  w.reads.length = 0
  await w.cache.get(w.id(1))
  assert.deepEqual(w.reads, [w.id(1)])
})

test('an entry read long ago is read again in the background, while it still answers at once', async () => {
  const w = world({ refreshMs: 5000 })
  await w.cache.get(w.id(1))
  w.advance(6000)
  w.vouch()
  w.hold()
  assert.equal((await w.cache.get(w.id(1)))?.keyPair.id, w.id(1), 'answered without waiting for the read')
  assert.equal(w.reads.length, 2)
  w.release()
})
