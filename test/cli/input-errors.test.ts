import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { test } from 'node:test'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { cliDatabase, keymint, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { tempDir } from '../helpers/server.js'

describeEachDialect('keymint CLI: bad input', (dialect) => {
  test('bad input: one line on stderr, non-zero exit, nothing written', async (t) => {
    const { run, json } = await cliDatabase(t, dialect)
    const account = await json(['account', 'create', '--name', 'Acme'])
    const standard = await json(['account', 'create', '--name', 'Small', '--plan', 'standard'])
    const user = await json(['user', 'create', '--account', String(account.id), '--email', 'a@acme.io'])
    const client = await json<Created>(['client', 'create', '--account', String(account.id), '--name', 'c', '--level', 'subscription'])
    const unknown = '7d444840-9dc0-41f5-8d0a-000000000000'
    const cases: [string, string[], RegExp][] = [
      ['unknown account', ['client', 'create', '--account', unknown, '--name', 'x', '--level', 'subscription'], /account .* not found/],
      ['account id not a UUID', ['user', 'create', '--account', 'nope', '--email', 'b@acme.io'], /UUID/],
      ['unknown user', ['client', 'create', '--account', String(account.id), '--name', 'x', '--level', 'user', '--user', unknown], /user .* not found/],
      ['unknown client', ['keys', 'rotate', '--client', unknown], /client .* not found/],
      ['--level user without --user', ['client', 'create', '--account', String(account.id), '--name', 'x', '--level', 'user'], /user-level client needs/],
      ['bad level', ['client', 'create', '--account', String(account.id), '--name', 'x', '--level', 'team'], /level must be one of/],
      ['non-enterprise account', ['client', 'create', '--account', String(standard.id), '--name', 'x', '--level', 'subscription'], /only enterprise/],
      ['invalid duration', ['client', 'create', '--account', String(account.id), '--name', 'x', '--level', 'subscription', '--lifetime', 'soon'], /invalid --lifetime/],
      ['invalid grace', ['keys', 'rotate', '--client', client.id, '--grace', '-5m'], /invalid --grace/],
      ['bad --encrypt', ['client', 'create', '--account', String(account.id), '--name', 'x', '--level', 'subscription', '--encrypt', 'RSA1_5'], /token encryption must be one of/],
      ['invalid email', ['user', 'create', '--account', String(account.id), '--email', 'not-an-email'], /invalid email/],
      ['duplicate email', ['user', 'create', '--account', String(account.id), '--email', 'A@acme.io'], /already exists/],
      ['bad --disabled', ['user', 'update', '--user', String(user.id), '--disabled', 'maybe'], /true or false/],
      ['bad permission', ['user', 'update', '--user', String(user.id), '--permissions', 'ui,root'], /permission must be one of/],
    ]
    for (const [name, args, message] of cases) {
      const res = await run(args)
      assert.notEqual(res.code, 0, `${name}: exit code`)
      assert.equal(res.stdout, '', `${name}: nothing on stdout`)
      assert.equal(res.stderr.trim().split('\n').length, 1, `${name}: one line on stderr: ${res.stderr}`)
      assert.match(res.stderr, message, name)
    }
    const pairs = await json<{ items: unknown[] }>(['keys', 'list', '--client', client.id])
    assert.equal(pairs.items.length, 1, 'the failed grace rotation wrote nothing')
    const u = await json<{ permissions: string[]; disabled: boolean }>(['user', 'update', '--user', String(user.id)])
    assert.deepEqual(u.permissions, ['api', 'ui'], 'failed updates changed nothing')
    assert.equal(u.disabled, false)
  })
})

test('malformed --db and unreachable PostgreSQL fail with one clear line', async (t) => {
  const dir = tempDir(t)
  const env = { KEYMINT_MASTER_KEY: generateMasterKey() }
  const cases: [string[], RegExp][] = [
    [['account', 'create', '--name', 'x', '--db', 'mysql://localhost/x'], /unsupported database URL/],
    [['account', 'create', '--name', 'x', '--db', 'sqlite:'], /malformed database URL/],
    [['account', 'create', '--name', 'x', '--db', 'postgres://postgres@127.0.0.1:1/none'], /cannot connect to PostgreSQL/],
    [['migrate', '--db', 'postgres://'], /malformed PostgreSQL URL/],
  ]
  for (const [args, message] of cases) {
    const res = await keymint(args, { env, cwd: dir })
    assert.notEqual(res.code, 0)
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr)
    assert.match(res.stderr, message)
  }
  const noKey = await keymint(['account', 'create', '--name', 'x', '--db', 'postgres://postgres@127.0.0.1:5432/test'], { env: { KEYMINT_MASTER_KEY: '' }, cwd: dir })
  assert.match(noKey.stderr, /needs a master key/)
})

test('bad input on a fresh path creates no database and no key file; usage errors are one line', async (t) => {
  const dir = tempDir(t)
  const cases: [string[], RegExp][] = [
    [['account', 'create', '--name', 'x', '--plan', 'bogus', '--db', 'sqlite:./a.db'], /plan must be one of/],
    [['user', 'create', '--account', 'nope', '--email', 'a@b.io', '--db', 'sqlite:./a.db'], /does not exist/],
    [['client', 'create', '--name', 'x', '--level', 'user', '--db', 'sqlite:./a.db'], /required option '--account/],
    [['keys', 'list', '--client', 'x', '--unknown', '--db', 'sqlite:./a.db'], /unknown option/],
    [['nonsense'], /unknown command/],
  ]
  for (const [args, message] of cases) {
    const res = await keymint(args, { cwd: dir })
    assert.notEqual(res.code, 0)
    assert.equal(res.stderr.trim().split('\n').length, 1, res.stderr)
    assert.match(res.stderr, message)
  }
  assert.deepEqual(readdirSync(dir), [])
})
