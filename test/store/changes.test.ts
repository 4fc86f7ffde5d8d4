import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'kysely'
import pg from 'pg'
import { loadConfig } from '../../src/config.js'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { createAccount } from '../../src/domain/accounts.js'
import { createClient } from '../../src/domain/clients.js'
import { revokeKeyPairs, rotateKeyPair } from '../../src/domain/key-pairs.js'
import { createUser, updateUser } from '../../src/domain/users.js'
import type { KeyPairId } from '../../src/domain/types.js'
import { openServices, type Services } from '../../src/services.js'
import { announceChange, LISTENER_APPLICATION_NAME, listenForChanges } from '../../src/store/changes.js'
import { DatabaseUnavailable, openDatabase } from '../../src/store/database.js'
import { unreachableReason } from '../../src/store/unreachable.js'
import { cleanup } from '../helpers/cleanup.js'
import { createTestDatabase, describeEachDialect, type Dialect } from '../helpers/dialects.js'
import { tempDir } from '../helpers/server.js'
import { startTcpProxy } from '../helpers/tcp-proxy.js'

async function open(t: TestContext, dialect: Dialect): Promise<Services & { url: string }> {
  const db = await createTestDatabase(t, dialect, tempDir(t), { migrated: true })
  const services = await openServices(loadConfig({ db: db.url }, { KEYMINT_MASTER_KEY: generateMasterKey() }))
  cleanup(t, () => services.close())
  return { ...services, url: db.url }
}

/** An account, an admin and a user-level client acting as them, with its first key pair. */
async function world(s: Services) {
  const account = await createAccount(s, { name: 'a' })
  const user = await createUser(s, { accountId: account.id, email: 'dev@example.com', role: 'admin', permissions: ['ui', 'api'] })
  const { client, keyPair } = await createClient(s, { accountId: account.id, name: 'c', level: 'user', userId: user.id })
  return { account, user, client, keyPair }
}

describeEachDialect('credential changes', (dialect) => {
  test('each commit that changes a credential is published once it is committed, naming what changed', async (t) => {
    const s = await open(t, dialect)
    const w = await world(s)
    const published: string[][] = []
    s.database.changes.subscribe((subjects) => published.push([...subjects].sort()))

    await updateUser(s, { userId: w.user.id, permissions: ['ui'] })
    assert.deepEqual(published, [[`u:${w.user.id}`]], 'at once, before the call returns')
    published.length = 0
    const rotated = await rotateKeyPair(s, { clientId: w.client.id, graceSeconds: 60 })
    assert.deepEqual(published, [[`k:${w.keyPair.id}`]], 'one commit: the pair put in a grace (the new one changes nothing cached)')
    published.length = 0
    await revokeKeyPairs(s, { clientId: w.client.id })
    assert.deepEqual(published, [[`k:${w.keyPair.id}`, `k:${rotated.keyPair.id}`].sort()])
    published.length = 0
    await s.database.db.updateTable('accounts').set({ plan: 'standard' }).where('id', '=', w.account.id).execute()
    assert.deepEqual(published, [[`a:${w.account.id}`]], 'a write outside a transaction, as soon as it is made')
    published.length = 0

    await s.store.keyPairs.recordUsage(new Map([[w.keyPair.id, { lastUsedAt: new Date(), address: '192.0.2.1', userAgent: 'curl/8.5.0', tokens: 2 }]]))
    await s.store.users.setPassword(w.user.id, 'hash', false, new Date())
    await assert.rejects(s.store.transaction(async (tx) => {
      await tx.users.update(w.user.id, { disabled: true, updatedAt: new Date() })
      throw new Error('changed my mind')
    }), /changed my mind/)
    assert.deepEqual(published, [], 'usage, a password and a rolled-back change publish nothing')
  })

  if (dialect === 'postgres') {
    test('a connection lost or refused is DatabaseUnavailable, and the pool recovers by itself', async (t) => {
      const s = await open(t, dialect)
      const target = new URL(s.url)
      const proxy = await startTcpProxy(t, { host: target.hostname, port: Number(target.port || 5432) })
      const database = await openDatabase(proxy.through(s.url), { poolSize: 2 })
      cleanup(t, () => database.close())
      const read = () => database.db.selectFrom('accounts').select('id').execute()
      await read()
      proxy.cut()
      for (let i = 0; i < 3; i++) await assert.rejects(read(), DatabaseUnavailable, `attempt ${i}`)
      proxy.restore()
      await read()
    })

    test('the change listener: sync waits for the connection being made and has then seen every earlier commit; close leaves no connection', async (t) => {
      const s = await open(t, dialect)
      const heard: string[] = []
      const listener = listenForChanges(s.url, {
        revocations: () => heard.push('revocations'),
        server_keys: () => heard.push('server_keys'),
        credentials: (subject) => heard.push(`credentials ${subject}`),
      }, (err) => assert.fail(String(err)))
      cleanup(t, () => listener.close())
      assert.equal(listener.freshAsOf(), Number.NEGATIVE_INFINITY, 'not yet connected')
      await listener.sync()
      assert.ok(Number.isFinite(listener.freshAsOf()), 'connected by the time sync resolves')
      assert.deepEqual(heard, ['revocations', 'server_keys', 'credentials *'], 'a connect reloads everything')
      await announceChange(s.database.db, 'postgres', 'revocations')
      await listener.sync()
      // (A heartbeat late on a loaded machine may have reconnected and reloaded everything again meanwhile.)
      assert.ok(heard.slice(3).includes('revocations'), 'what was committed before sync has been handled when it resolves')

      const listeners = () => sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where application_name = ${LISTENER_APPLICATION_NAME} and datname = current_database()`.execute(s.database.db)
      const closing = listenForChanges(s.url, { revocations() {}, server_keys() {}, credentials() {} }, () => {})
      await closing.close()
      await listener.close()
      const deadline = Date.now() + 5000
      while ((await listeners()).rows[0]!.n > 0 && Date.now() < deadline) await sleep(20)
      assert.equal((await listeners()).rows[0]!.n, 0, 'closed while connecting: its connection is ended, not left open')
    })

    test('PostgreSQL announces every change to a credential row, whoever writes it, on commit', async (t) => {
      const s = await open(t, dialect)
      const w = await world(s)
      const url = s.url
      const listener = new pg.Client({ connectionString: url })
      await listener.connect()
      cleanup(t, () => listener.end())
      const heard: string[] = []
      listener.on('notification', (m) => { if (m.payload?.startsWith('credentials:')) heard.push(m.payload) })
      await listener.query('LISTEN keymint_changes')
      const other = new pg.Client({ connectionString: url })
      await other.connect()
      cleanup(t, () => other.end())
      // An operator's SQL, not keymint's code.
      await other.query('begin')
      await other.query('update users set disabled = 1 where id = $1', [w.user.id])
      await other.query("update key_pairs set tokens_issued = tokens_issued + 1, last_used_at = 5, last_used_address = '192.0.2.1', last_used_user_agent = 'curl/8.5.0' where id = $1", [w.keyPair.id])
      await sleep(100)
      assert.deepEqual(heard, [], 'nothing before the commit')
      await other.query('commit')
      await other.query('update key_pairs set revoked_at = 1 where id = $1', [w.keyPair.id])
      await other.query('update clients set name = name where id = $1', [w.client.id])
      await other.query('update accounts set plan = $2 where id = $1', [w.account.id, 'standard'])
      await other.query('update users set password_hash = $2, updated_at = 9 where id = $1', [w.user.id, 'h'])
      await other.query('delete from key_pairs where id = $1', [w.keyPair.id as KeyPairId])
      await other.query('truncate key_pairs cascade')
      const deadline = Date.now() + 5000
      while (heard.length < 5 && Date.now() < deadline) await sleep(20)
      await sleep(100)
      assert.deepEqual(heard, [
        `credentials:u:${w.user.id}`, `credentials:k:${w.keyPair.id}`, `credentials:a:${w.account.id}`, `credentials:k:${w.keyPair.id}`, 'credentials:*',
      ], 'usage counters and last use, an unchanged client and a password are not announced')
    })
  }
})

test('unreachable: refused, reset, dropped and shut-down connections; not a query the database refused', async () => {
  for (const err of [
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    Object.assign(new Error('connection failure'), { code: '08006' }),
    new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'all failed'),
    Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
  ]) assert.notEqual(unreachableReason(err), undefined, err.message)
  for (const err of [
    Object.assign(new Error('duplicate key'), { code: '23505' }),
    Object.assign(new Error('syntax error'), { code: '42601' }),
    Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }),
    new Error('boom'), undefined, 'text',
  ]) assert.equal(unreachableReason(err), undefined, String(err))
})

test('a PostgreSQL that is not there is DatabaseUnavailable at open', async () => {
  await assert.rejects(openDatabase('postgres://postgres@127.0.0.1:1/none'), DatabaseUnavailable)
})
