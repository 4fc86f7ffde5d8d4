import assert from 'node:assert/strict'
import { existsSync, rmSync } from 'node:fs'
import { test } from 'node:test'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { cliDatabase, keymint, keymintJson, serve, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { tempDir } from '../helpers/server.js'

describeEachDialect('keymint CLI: master key', (dialect) => {
  test('a master key that does not open the stored keys is refused by every command; a rotation still works', async (t) => {
    const { db, env, dir, json } = await cliDatabase(t, dialect)
    const account = await json<{ id: string }>(['account', 'create', '--name', 'Acme'])
    const client = await json<Created>(['client', 'create', '--account', account.id, '--name', 'c', '--level', 'subscription'])
    const wrongKey = generateMasterKey()
    const withKey = (vars: Record<string, string>) => (args: string[]) => keymint([...args, '--db', db.url], { env: { KEYMINT_PREVIOUS_MASTER_KEYS: '', ...vars }, cwd: dir })
    const wrong = withKey({ KEYMINT_MASTER_KEY: wrongKey })
    const refused = async (args: string[], when: string) => {
      const res = await wrong(args)
      assert.equal(res.code, 1, `${when}: ${args.join(' ')} exits 1`)
      assert.equal(res.stdout, '', `${when}: ${args.join(' ')} prints nothing on stdout`)
      assert.equal(res.stderr.trim().split('\n').length, 1, `${when}: one line on stderr: ${res.stderr}`)
      assert.match(res.stderr, /master key/)
      assert.ok(![wrongKey, env.KEYMINT_MASTER_KEY].some((k) => res.stderr.includes(k)), 'no master key in the message')
    }
    const audited = async () => (await json<{ items: unknown[] }>(['audit', 'list'])).items.length
    const before = await audited()

    // Only key pairs hold anything made with the master key yet: their secret hashes.
    for (const args of [['client', 'create', '--account', account.id, '--name', 'd', '--level', 'subscription'], ['keys', 'list', '--client', client.id]]) {
      await refused(args, 'no server keys')
    }

    const server = await serve(t, ['--port', '0', '--db', db.url], { env, cwd: dir })
    server.child.kill('SIGTERM')
    assert.equal(await server.exited, 0)
    const afterServe = await audited()
    // Every command opens the database through one function; one of each kind of command here.
    const commands = [
      ['account', 'create', '--name', 'x'],
      ['client', 'create', '--account', account.id, '--name', 'd', '--level', 'subscription'],
      ['keys', 'rotate', '--client', client.id],
      ['signing-keys', 'rotate'],
      ['audit', 'list'],
      ['master-key', 'rotate'],
    ]
    for (const args of commands) await refused(args, 'server keys')
    const serveWrong = await wrong(['serve', '--port', '0'])
    assert.equal(serveWrong.code, 1)
    assert.match(serveWrong.stderr, /master key/)
    assert.equal(await audited(), afterServe, 'refused commands wrote nothing')
    assert.ok(afterServe >= before)
    const pairs = await json<{ items: { state: string }[] }>(['keys', 'list', '--client', client.id])
    assert.deepEqual(pairs.items.map((p) => p.state), ['active'])

    // Rotation: the new key current, the old one previous.
    const rotating = withKey({ KEYMINT_MASTER_KEY: wrongKey, KEYMINT_PREVIOUS_MASTER_KEYS: env.KEYMINT_MASTER_KEY })
    const created = await rotating(['client', 'create', '--account', account.id, '--name', 'e', '--level', 'subscription', '--json'])
    assert.equal(created.code, 0, created.stderr)
    assert.equal((await rotating(['master-key', 'rotate', '--json'])).code, 0)
    const status = await rotating(['master-key', 'status', '--json'])
    assert.equal(status.code, 0, status.stderr)
    assert.equal((JSON.parse(status.stdout) as { server_keys_to_reseal: number }).server_keys_to_reseal, 0)
    const rotated = await serve(t, ['--port', '0', '--db', db.url], { env: { KEYMINT_MASTER_KEY: wrongKey, KEYMINT_PREVIOUS_MASTER_KEYS: env.KEYMINT_MASTER_KEY }, cwd: dir })
    const res = await fetch(`${rotated.url}/auth/oauth`, { method: 'POST', headers: { clientId: client.client_id, clientSecret: client.client_secret } })
    assert.equal(res.status, 200, 'a secret hashed under the previous key still works')
    rotated.child.kill('SIGTERM')
    assert.equal(await rotated.exited, 0)
  })
})

test('a missing master key file is never silently replaced on a database that holds keys', async (t) => {
  const dir = tempDir(t)
  const db = `sqlite:${dir}/k.db`
  const account = await keymintJson(['account', 'create', '--name', 'k', '--db', db], { cwd: dir, env: { KEYMINT_MASTER_KEY: '' } })
  await keymintJson(['client', 'create', '--account', String(account.id), '--name', 'c', '--level', 'subscription', '--db', db], { cwd: dir, env: { KEYMINT_MASTER_KEY: '' } })
  rmSync(`${dir}/k.master.key`)
  const res = await keymint(['keys', 'list', '--client', String(account.id), '--db', db], { cwd: dir, env: { KEYMINT_MASTER_KEY: '' } })
  assert.notEqual(res.code, 0)
  assert.match(res.stderr, /master key file .* is missing/)
  assert.ok(!existsSync(`${dir}/k.master.key`))
})

test('a command that creates the master key says so on stderr; an unknown --account in audit list is an error', async (t) => {
  const dir = tempDir(t)
  const db = `sqlite:${dir}/fresh.db`
  const created = await keymint(['account', 'create', '--db', db, '--name', 'Fresh', '--json'], { env: { KEYMINT_MASTER_KEY: '' } })
  assert.equal(created.code, 0)
  assert.equal(created.stdout.trim().split('\n').length, 1, '--json output is still one object')
  assert.equal(created.stderr, `keymint: created master key ${dir}/fresh.master.key (mode 0600); back it up: stored keys cannot be read without it\n`)
  const unknown = await keymint(['audit', 'list', '--db', db, '--account', '7d444840-9dc0-41f5-8d0a-000000000001', '--json'])
  assert.equal(unknown.code, 1)
  assert.equal(unknown.stdout, '')
  assert.equal(unknown.stderr, '{"error":"KEYMINT_ACCOUNT_NOT_FOUND","message":"account 7d444840-9dc0-41f5-8d0a-000000000001 not found"}\n')
  const human = await keymint(['audit', 'list', '--db', db, '--account', '7d444840-9dc0-41f5-8d0a-000000000001'])
  assert.equal(human.stderr, 'keymint: error: account 7d444840-9dc0-41f5-8d0a-000000000001 not found\n', 'without --json: the one line')
})
