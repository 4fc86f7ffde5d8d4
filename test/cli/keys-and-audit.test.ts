import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { keymint, keymintJson, withOptions, type Created } from '../helpers/cli.js'
import { tempDir } from '../helpers/server.js'

test('keys rotate, revoke and list take a client id or the client_id of one of its key pairs', async (t) => {
  const dir = tempDir(t)
  const db = `sqlite:${dir}/r.db`
  const env = { KEYMINT_MASTER_KEY: generateMasterKey() }
  const json = <T>(args: string[]) => keymintJson<T>([...args, '--db', db], { env, cwd: dir })
  const account = await json<{ id: string }>(['account', 'create', '--name', 'r'])
  const client = await json<Created>(['client', 'create', '--account', account.id, '--name', 'c', '--level', 'subscription'])
  type Listed = { items: { client_id: string; state: string }[] }
  for (const ref of [client.id, client.client_id]) {
    const listed = await json<Listed>(['keys', 'list', '--client', ref])
    assert.deepEqual(listed.items.map((p) => p.client_id), [client.client_id], `list --client ${ref}`)
  }
  const byPair = await json<Created & { client: string }>(['keys', 'rotate', '--client', client.client_id, '--grace', '10m'])
  assert.equal(byPair.client, client.id)
  const byId = await json<Created & { client: string; ended: { client_id: string }[] }>(['keys', 'rotate', '--client', client.id, '--grace', '10m'])
  assert.equal(byId.client, client.id)
  assert.deepEqual(byId.ended.map((e) => e.client_id).sort(), [client.client_id, byPair.client_id].sort())
  const revoked = await json<{ client: string; revoked: string[] }>(['keys', 'revoke', '--client', byPair.client_id])
  assert.equal(revoked.client, client.id)
  assert.equal(revoked.revoked.length, 3)
  const again = await json<{ client: string; revoked: string[] }>(['keys', 'revoke', '--client', client.id])
  assert.deepEqual([again.client, again.revoked], [client.id, []])
  const unknown = await keymint(['keys', 'list', '--client', '7d444840-9dc0-41f5-8d0a-000000000000', '--db', db], { env, cwd: dir })
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, /client .* not found/)
})

test('signing-keys list, rotate and retire speak JSON and refuse what would break signing', async (t) => {
  const dir = tempDir(t)
  const db = `sqlite:${dir}/s.db`
  const env = { KEYMINT_MASTER_KEY: generateMasterKey() }
  const run = (args: string[]) => keymint(withOptions(args, ['--db', db]), { env, cwd: dir })
  const json = <T>(args: string[]) => keymintJson<T>(withOptions(args, ['--db', db]), { env, cwd: dir })
  await json(['migrate'])
  const first = await json<{ kid: string; state: string }>(['signing-keys', 'rotate', '--alg', 'EdDSA'])
  assert.equal(first.state, 'active', 'the first key signs at once')
  const second = await json<{ kid: string; state: string; activates_at: string }>(['signing-keys', 'rotate', '--alg', 'EdDSA', '--publish-ahead', '15m'])
  assert.equal(second.state, 'next')
  const listed = await json<{ items: { kid: string; state: string }[] }>(['signing-keys', 'list'])
  assert.deepEqual(listed.items.filter((k) => [first.kid, second.kid].includes(k.kid)).map((k) => k.state).sort(), ['active', 'next'])
  for (const [args, message] of [
    // A kid may begin with '-' (base64url): after '--' it is an argument, before it an unknown option.
    [['signing-keys', 'retire', '--', first.kid], /only one in use/],
    [['signing-keys', 'retire', '--', '-nope'], /not found/],
    [['signing-keys', 'retire', '-nope'], /unknown option '-nope'.*goes after '--'/],
    [['signing-keys', 'retire', '--nope'], /^keymint: error: unknown option '--nope' \(see --help\)$/m],
    [['signing-keys', 'rotate', '--alg', 'HS256'], /--alg must be one of/],
  ] as const) {
    const res = await run([...args])
    assert.notEqual(res.code, 0)
    assert.equal(res.stderr.trim().split('\n').length, 1)
    assert.match(res.stderr, message)
  }
  const retired = await json<{ state: string; retired_at: string }>(['signing-keys', 'retire', '--', second.kid])
  assert.equal(retired.state, 'retired')
})

test('client create --public-key registers a key for private_key_jwt and refuses private keys', async (t) => {
  const dir = tempDir(t)
  const db = `sqlite:${dir}/p.db`
  const env = { KEYMINT_MASTER_KEY: generateMasterKey() }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  writeFileSync(`${dir}/pub.pem`, publicKey.export({ format: 'pem', type: 'spki' }))
  writeFileSync(`${dir}/priv.pem`, privateKey.export({ format: 'pem', type: 'pkcs8' }))
  const account = await keymintJson<{ id: string }>(['account', 'create', '--name', 'p', '--db', db], { env, cwd: dir })
  const client = await keymintJson<{ public_jwk: { kty: string; crv: string } }>(['client', 'create', '--account', account.id, '--name', 'signed', '--level', 'subscription', '--public-key', `${dir}/pub.pem`, '--db', db], { env, cwd: dir })
  assert.equal(client.public_jwk.crv, 'Ed25519')
  for (const [file, message] of [[`${dir}/priv.pem`, /private key/], [`${dir}/missing.pem`, /cannot read --public-key/]] as const) {
    const res = await keymint(['client', 'create', '--account', account.id, '--name', 'x', '--level', 'subscription', '--public-key', file, '--db', db], { env, cwd: dir })
    assert.notEqual(res.code, 0)
    assert.match(res.stderr, message)
  }
})

test('audit list shows what the CLI changed, filtered by account and time', async (t) => {
  const dir = tempDir(t)
  const db = `sqlite:${dir}/a.db`
  const env = { KEYMINT_MASTER_KEY: generateMasterKey() }
  const json = <T>(args: string[]) => keymintJson<T>([...args, '--db', db], { env, cwd: dir })
  const account = await json<{ id: string }>(['account', 'create', '--name', 'A'])
  const other = await json<{ id: string }>(['account', 'create', '--name', 'B'])
  const client = await json<Created>(['client', 'create', '--account', account.id, '--name', 'c', '--level', 'subscription'])
  await json(['keys', 'rotate', '--client', client.id])
  await json(['client', 'create', '--account', other.id, '--name', 'd', '--level', 'subscription'])
  const { items: events } = await json<{ items: { action: string; actor: string; account_id: string }[] }>(['audit', 'list', '--account', account.id, '--since', '1h'])
  assert.deepEqual(events.map((e) => e.action).sort(), ['account.created', 'client.created', 'key_pair.created', 'key_pair.rotated'])
  assert.ok(events.every((e) => e.actor === 'cli' && e.account_id === account.id))
  const later = await json<{ items: unknown[] }>(['audit', 'list', '--since', new Date(Date.now() + 60_000).toISOString()])
  assert.deepEqual(later.items, [])
  const bad = await keymint(['audit', 'list', '--since', 'yesterday', '--db', db], { env, cwd: dir })
  assert.notEqual(bad.code, 0)
  assert.match(bad.stderr, /invalid --since/)
})
