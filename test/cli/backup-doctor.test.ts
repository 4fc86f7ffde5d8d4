import assert from 'node:assert/strict'
import { chmodSync, statSync } from 'node:fs'
import { test } from 'node:test'
import SqliteDatabase from 'better-sqlite3'
import { generateMasterKey } from '../../src/crypto/master-key.js'
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

test('backup with PostgreSQL says to use pg_dump, and why', async (t) => {
  const dir = tempDir(t)
  const res = await keymint(['backup', '--db', 'postgres://postgres@127.0.0.1:5432/test', '--to', `${dir}/x`, '--json'], { cwd: dir, env: { KEYMINT_MASTER_KEY: generateMasterKey() } })
  assert.equal(res.code, 1)
  const failure = JSON.parse(res.stderr) as { error: string; message: string }
  assert.match(failure.message, /pg_dump/)
  assert.match(failure.message, /master key/)
})

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
})
