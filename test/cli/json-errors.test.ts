import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { assertJsonFailure, cliDatabase, keymint } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { tempDir } from '../helpers/server.js'

const UNKNOWN = '7d444840-9dc0-41f5-8d0a-000000000000'

describeEachDialect('keymint --json errors', (dialect) => {
  test('every failure is one {error, message} object on stderr with a stable code; without --json, one line', async (t) => {
    const { run, json, dir } = await cliDatabase(t, dialect)
    const account = await json<{ id: string }>(['account', 'create', '--name', 'Acme'])
    const standard = await json<{ id: string }>(['account', 'create', '--name', 'Small', '--plan', 'standard'])
    const client = await json<{ id: string; client_secret: string }>(['client', 'create', '--account', account.id, '--name', 'c', '--level', 'subscription'])
    writeFileSync(`${dir}/bad.json`, '{"port": "many"}')
    const cases: [string, string[], string, number][] = [
      ['unknown client', ['keys', 'rotate', '--client', UNKNOWN], 'KEYMINT_CLIENT_NOT_FOUND', 1],
      ['unknown account', ['user', 'create', '--account', UNKNOWN, '--email', 'a@b.io'], 'KEYMINT_ACCOUNT_NOT_FOUND', 1],
      ['not a UUID', ['keys', 'list', '--client', 'nope'], 'KEYMINT_INVALID_INPUT', 1],
      ['invalid duration', ['keys', 'rotate', '--client', client.id, '--grace', 'soon'], 'KEYMINT_INVALID_INPUT', 1],
      ['non-enterprise account', ['client', 'create', '--account', standard.id, '--name', 'x', '--level', 'subscription'], 'KEYMINT_PLAN_FORBIDS_KEY_PAIRS', 1],
      ['missing option', ['keys', 'list'], 'invalid_usage', 2],
      ['unknown option', ['keys', 'list', '--client', client.id, '--colour'], 'invalid_usage', 2],
      ['unknown command', ['nonsense'], 'invalid_usage', 2],
      ['invalid configuration file', ['audit', 'list', '--config', `${dir}/bad.json`], 'invalid_configuration', 1],
    ]
    for (const [name, args, error, code] of cases) {
      const res = await run([...args, '--json'])
      assertJsonFailure(res, error, name)
      assert.equal(res.code, code, name)
      assert.ok(!res.stderr.includes(client.client_secret), `${name}: never a secret`)
    }
    // Without --json: today's one line, and the same exit code.
    for (const [name, args, , code] of [cases[0]!, cases[5]!, cases[8]!]) {
      const human = await run(args)
      assert.equal(human.code, code, name)
      assert.equal(human.stdout, '', name)
      assert.match(human.stderr, /^keymint: [^\n]+\n$/, name)
    }
  })

  test('a master key that does not fit the database: invalid_master_key, and never a key in the message', async (t) => {
    const { run, json, env } = await cliDatabase(t, dialect)
    const account = await json<{ id: string }>(['account', 'create', '--name', 'Acme'])
    const client = await json<{ id: string }>(['client', 'create', '--account', account.id, '--name', 'c', '--level', 'subscription'])
    const wrong = generateMasterKey()
    const res = await run(['keys', 'list', '--client', client.id, '--json'], { KEYMINT_MASTER_KEY: wrong, KEYMINT_PREVIOUS_MASTER_KEYS: '' })
    const failure = assertJsonFailure(res, 'invalid_master_key', 'wrong master key')
    assert.ok(![wrong, env.KEYMINT_MASTER_KEY].some((k) => failure.message.includes(k)))
  })
})

test('database and URL failures have codes of their own', async (t) => {
  const dir = tempDir(t)
  const env = { KEYMINT_MASTER_KEY: generateMasterKey() }
  const cases: [string[], string][] = [
    [['account', 'create', '--name', 'x', '--db', 'mysql://localhost/x'], 'invalid_configuration'],
    [['migrate', '--db', 'postgres://'], 'invalid_configuration'],
    [['audit', 'list', '--db', `sqlite:${dir}/missing.db`], 'database_unavailable'],
    [['account', 'create', '--name', 'x', '--db', 'postgres://postgres:hunter2@127.0.0.1:1/none'], 'database_unavailable'],
  ]
  for (const [args, error] of cases) {
    const res = await keymint([...args, '--json'], { env, cwd: dir })
    const failure = assertJsonFailure(res, error, args.join(' '))
    assert.ok(!failure.message.includes('hunter2'), 'never a database password')
  }
})
