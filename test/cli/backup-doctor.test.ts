import assert from 'node:assert/strict'
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs'
import { test } from 'node:test'
import SqliteDatabase from 'better-sqlite3'
import { Migrator, type Migration } from 'kysely'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { backupSqliteDatabase } from '../../src/store/backup.js'
import { openDatabase } from '../../src/store/database.js'
import { MIGRATIONS } from '../../src/store/migrate.js'
import { keymint, keymintJson, serve, type Created } from '../helpers/cli.js'
import { describeEachDialect, createTestDatabase } from '../helpers/dialects.js'
import { tempDir } from '../helpers/server.js'

const tokenStatus = async (url: string, c: Created) => {
  const res = await fetch(`${url}/auth/oauth`, { method: 'POST', headers: { clientId: c.client_id, clientSecret: c.client_secret } })
  await res.arrayBuffer()
  return res.status
}

test('backup copies a SQLite database consistently while serve writes to it, and the copy restores', async (t) => {
  const dir = tempDir(t)
  const db = `sqlite:${dir}/live.db`
  const server = await serve(t, ['--port', '0', '--db', db], { cwd: dir, env: { KEYMINT_MASTER_KEY: '' } })
  const accountId = /account id:\s+(\S+)/.exec(server.output())?.[1]
  assert.ok(accountId)
  const before = await keymintJson<Created>(['client', 'create', '--db', db, '--account', accountId, '--name', 'before', '--level', 'subscription', '--json'], { cwd: dir, env: { KEYMINT_MASTER_KEY: '' } })
  // Writes keep coming while the backup runs: token requests record usage, the CLI adds clients.
  let writing = true
  const writes = (async () => {
    let n = 0
    while (writing) {
      await tokenStatus(server.url, before)
      await keymint(['client', 'create', '--db', db, '--account', accountId, '--name', `during-${n++}`, '--level', 'subscription', '--json'], { cwd: dir, env: { KEYMINT_MASTER_KEY: '' } })
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 300))
  const backup = await keymintJson<{ to: string; pages: number }>(['backup', '--db', db, '--to', `${dir}/copy.db`, '--json'], { cwd: dir, env: { KEYMINT_MASTER_KEY: '' } })
  writing = false
  await writes
  assert.equal(backup.to, `${dir}/copy.db`)
  assert.ok(backup.pages > 0)
  assert.equal(statSync(`${dir}/copy.db`).mode & 0o777, 0o600)
  const copy = new SqliteDatabase(`${dir}/copy.db`, { readonly: true })
  assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok')
  copy.close()
  const again = await keymint(['backup', '--db', db, '--to', `${dir}/copy.db`])
  assert.equal(again.code, 1)
  assert.match(again.stderr, /exists already/)

  // Restore: a server on the copy, with the same master key file, serves the pair made before it.
  server.child.kill('SIGTERM')
  await server.exited
  const { copyFileSync } = await import('node:fs')
  copyFileSync(`${dir}/live.master.key`, `${dir}/copy.master.key`)
  const restored = await serve(t, ['--port', '0', '--db', `sqlite:${dir}/copy.db`], { cwd: dir, env: { KEYMINT_MASTER_KEY: '' } })
  assert.doesNotMatch(restored.output(), /account id/, 'not a new database')
  assert.equal(await tokenStatus(restored.url, before), 200)
  restored.child.kill('SIGTERM')
  await restored.exited
})

test('a backup is mode 0600 from the moment it exists, not only once complete', async (t) => {
  const dir = tempDir(t)
  // Big enough to be copied in many steps: SQLite's backup hands back control between them.
  const source = new SqliteDatabase(`${dir}/big.db`)
  source.exec('create table filler (x blob)')
  const insert = source.prepare('insert into filler values (randomblob(4000))')
  source.transaction(() => { for (let i = 0; i < 2000; i++) insert.run() })()
  source.close()
  const umask = process.umask(0o022)
  try {
    const modes = new Set<number>()
    let done = false
    const watching = (async () => {
      while (!done) {
        if (existsSync(`${dir}/copy.db`)) modes.add(statSync(`${dir}/copy.db`).mode & 0o777)
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    const { pages } = await backupSqliteDatabase(`${dir}/big.db`, `${dir}/copy.db`).finally(() => { done = true })
    await watching
    assert.ok(pages > 1000)
    assert.ok(modes.size > 0, 'the copy was seen while being written')
    assert.deepEqual([...modes], [0o600])
  } finally {
    process.umask(umask)
  }
})

test('backup with PostgreSQL says to use pg_dump, and why', async (t) => {
  const dir = tempDir(t)
  const res = await keymint(['backup', '--db', 'postgres://postgres@127.0.0.1:5432/test', '--to', `${dir}/x`, '--json'], { cwd: dir, env: { KEYMINT_MASTER_KEY: generateMasterKey() } })
  assert.equal(res.code, 1)
  const failure = JSON.parse(res.stderr) as { error: string; message: string }
  assert.match(failure.message, /pg_dump/)
  assert.match(failure.message, /master key/)
})

/** The schema as an older keymint left it: migrated up to `last` and no further. */
async function migrateUpTo(url: string, last: keyof typeof MIGRATIONS): Promise<void> {
  const database = await openDatabase(url, { poolSize: 1 })
  try {
    const migrations: Record<string, Migration> = {}
    for (const [name, m] of Object.entries(MIGRATIONS)) migrations[name] = { up: (db) => m.up(db, database.engine), down: (db) => m.down(db, database.engine) }
    const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations }, migrationTableName: 'keymint_migrations', migrationLockTableName: 'keymint_migrations_lock' })
    const { error } = await migrator.migrateTo(last)
    if (error) throw error
  } finally {
    await database.close()
  }
}

describeEachDialect('doctor', (dialect) => {
  test('a sound installation is all ok; each problem is one line and exit 1; warnings alone exit 0', async (t) => {
    const dir = tempDir(t)
    const database = await createTestDatabase(t, dialect, dir)
    const masterKey = generateMasterKey()
    const env = dialect === 'postgres' ? { KEYMINT_MASTER_KEY: masterKey } : { KEYMINT_MASTER_KEY: '' }
    const server = await serve(t, ['--port', '0', '--db', database.url], { cwd: dir, env })
    server.child.kill('SIGTERM')
    await server.exited

    const doctor = (extra: NodeJS.ProcessEnv = {}) => keymint(['doctor', '--db', database.url], { cwd: dir, env: { ...env, ...extra } })
    const sound = await doctor()
    assert.equal(sound.code, 0, sound.stdout + sound.stderr)
    for (const check of ['configuration', 'issuer', 'database', 'schema', 'master key', 'clock']) assert.match(sound.stdout, new RegExp(`^ok\\s+${check}:`, 'm'), check)
    assert.doesNotMatch(sound.stdout, /^(warn|problem)/m)

    const json = await keymintJson<{ findings: { level: string; check: string }[]; problems: number }>(['doctor', '--db', database.url, '--json'], { cwd: dir, env })
    assert.equal(json.problems, 0)

    const wrongKey = await doctor({ KEYMINT_MASTER_KEY: generateMasterKey() })
    assert.equal(wrongKey.code, 1)
    assert.match(wrongKey.stdout, /^problem\s+master key: .*does not fit/m)

    const insecure = await doctor({ KEYMINT_ISSUER: 'http://auth.example.com', KEYMINT_TRUST_PROXY: 'true', KEYMINT_HOST: '0.0.0.0' })
    assert.equal(insecure.code, 1)
    assert.match(insecure.stdout, /^problem\s+issuer: http:\/\/auth\.example\.com is http outside loopback/m)
    assert.match(insecure.stdout, /^warn\s+trust proxy:/m)
    assert.match(insecure.stdout, /^warn\s+metrics:/m)
    const warnings = await doctor({ KEYMINT_TRUST_PROXY: 'true' })
    assert.equal(warnings.code, 0, 'warnings alone do not fail')
    const development = await doctor({ KEYMINT_WEBHOOKS_ALLOW_LOOPBACK: 'true', KEYMINT_FEDERATION_ALLOW_LOOPBACK: 'true' })
    assert.equal(development.code, 0, development.stdout)
    assert.match(development.stdout, /^warn\s+webhooks: KEYMINT_WEBHOOKS_ALLOW_LOOPBACK=true is for development only/m)
    assert.match(development.stdout, /^warn\s+federation: KEYMINT_FEDERATION_ALLOW_LOOPBACK=true is for development only/m)

    // The clock line says what it was compared with; SQLite cannot show a clock ahead.
    assert.match(sound.stdout, dialect === 'sqlite'
      ? /^ok\s+clock: \S+, not behind the newest audit event; a clock ahead is not detected: a SQLite database has no clock/m
      : /^ok\s+clock: \S+, within \d+ s of PostgreSQL's, not behind the newest audit event$/m)
    // A record stamped ten minutes from now: this machine's clock is behind the one that wrote it.
    const open = await openDatabase(database.url, { poolSize: 1 })
    try {
      await open.db.insertInto('audit_events').values({ id: 'future', account_id: null, actor: 'test', action: 'test.future', target: null, reason: null, count: 1, details: '{}', created_at: Date.now() + 600_000 }).execute()
    } finally {
      await open.close()
    }
    const behind = await doctor()
    assert.equal(behind.code, 1)
    assert.match(behind.stdout, /^problem\s+clock: this machine's clock is \d+ s behind the newest audit event/m)

    const badConfig = await doctor({ KEYMINT_PORT: 'eighty' })
    assert.equal(badConfig.code, 1)
    assert.match(badConfig.stdout, /^problem\s+configuration: /m)

    if (dialect === 'sqlite') {
      chmodSync(`${dir}/${database.url.split('/').at(-1)!.replace(/\.db$/, '')}.master.key`, 0o644)
      const loose = await doctor()
      assert.equal(loose.code, 1)
      assert.match(loose.stdout, /^problem\s+master key: .* is mode 0644/m)
    } else {
      const down = await keymint(['doctor', '--db', 'postgres://postgres@127.0.0.1:1/test'], { cwd: dir, env })
      assert.equal(down.code, 1)
      assert.match(down.stdout, /^problem\s+database: cannot connect/m)
    }
  })

  test('a database not migrated, or partly, is a problem that says how to migrate; the checks it skips say why', async (t) => {
    const dir = tempDir(t)
    const database = await createTestDatabase(t, dialect, dir)
    const env = dialect === 'postgres' ? { KEYMINT_MASTER_KEY: generateMasterKey() } : { KEYMINT_MASTER_KEY: '' }
    // An empty file is an empty SQLite database.
    if (dialect === 'sqlite') writeFileSync(database.url.slice('sqlite:'.length), '', { mode: 0o600 })
    const doctor = () => keymint(['doctor', '--db', database.url], { cwd: dir, env })
    const total = Object.keys(MIGRATIONS).length

    const empty = await doctor()
    assert.equal(empty.code, 1, empty.stdout)
    assert.match(empty.stdout, new RegExp(`^problem\\s+schema: no migration applied \\(${total} pending\\).*; run keymint migrate \\(keymint serve also migrates as it starts\\)$`, 'm'))
    assert.match(empty.stdout, /^warn\s+master key: not checked: no migration is applied/m)
    assert.match(empty.stdout, /^warn\s+clock: not checked: no migration is applied/m)

    const names = Object.keys(MIGRATIONS) as (keyof typeof MIGRATIONS)[]
    await migrateUpTo(database.url, names.at(-3)!)
    const partly = await doctor()
    assert.equal(partly.code, 1, partly.stdout)
    assert.match(partly.stdout, new RegExp(`^problem\\s+schema: 2 of ${total} migrations not applied \\(${names.slice(-2).join(', ')}\\); run keymint migrate`, 'm'))
    assert.match(partly.stdout, /^warn\s+master key: not checked: it reads tables the pending migrations create or change/m)
    assert.match(partly.stdout, /^warn\s+clock: not checked: it reads tables the pending migrations create or change/m)

    // Doing what the line says mends it.
    const migrated = await keymint(['migrate', '--db', database.url], { cwd: dir, env })
    assert.equal(migrated.code, 0, migrated.stderr)
    const after = await doctor()
    assert.equal(after.code, 0, after.stdout)
    assert.match(after.stdout, /^ok\s+schema: up to date/m)
    assert.match(after.stdout, /^ok\s+clock: /m)
    assert.match(after.stdout, /^(ok|warn)\s+master key: (opens the 0 stored server key|.* does not exist yet; the first keymint serve creates it)/m)
  })
})
