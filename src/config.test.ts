import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, loadConfig } from './config.js'
import { parseDuration } from './duration.js'

test('defaults follow DESIGN: SQLite file, 127.0.0.1:8080, 4 h and 36000 s lifetimes', () => {
  const c = loadConfig({}, {})
  assert.equal(c.database.url, 'sqlite:./keymint.db')
  assert.equal(c.server.host, '127.0.0.1')
  assert.equal(c.server.port, 8080)
  assert.equal(c.tokens.headerLifetimeSeconds, 14400)
  assert.equal(c.tokens.oauth2LifetimeSeconds, 36000)
  assert.match(c.masterKey.file ?? '', /keymint\.master\.key$/)
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.tokens))
})

test('flags win over environment variables', () => {
  const c = loadConfig({ port: 9000 }, { KEYMINT_PORT: '7000', KEYMINT_HOST: '0.0.0.0' })
  assert.equal(c.server.port, 9000)
  assert.equal(c.server.host, '0.0.0.0')
})

test('every problem is reported at once', () => {
  try {
    loadConfig({ port: 'eighty' }, { KEYMINT_WORKERS: '0', KEYMINT_HEADER_TOKEN_LIFETIME: 'forever', KEYMINT_ISSUER: 'ftp://x', KEYMINT_DATABASE_URL: 'oracle://x' })
    assert.fail('expected a ConfigError')
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    assert.equal(err.problems.length, 5, err.problems.join('\n'))
  }
})

test('durations', () => {
  assert.equal(parseDuration('90', 'x'), 90)
  assert.equal(parseDuration('10m', 'x'), 600)
  assert.equal(parseDuration('4h', 'x'), 14400)
  assert.equal(parseDuration('2d', 'x'), 172800)
  for (const bad of ['', '-1m', '1.5h', '4 hours', '1w']) assert.throws(() => parseDuration(bad, 'x'), /invalid x/)
})
