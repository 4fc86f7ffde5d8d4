import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { renderSettingsTable } from './config-schema.js'
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

test('values out of bounds are problems, never silently replaced', () => {
  for (const [name, value] of [['KEYMINT_KEY_REFRESH', '0s'], ['KEYMINT_REVOCATION_POLL', '0'], ['KEYMINT_LAST_USED_FLUSH', '2d'], ['KEYMINT_THROTTLE_WINDOW', '0s'], ['KEYMINT_PORT', '70000']] as const) {
    assert.throws(() => loadConfig({}, { [name]: value }), (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0]!.startsWith(name), name)
  }
  assert.equal(loadConfig({}, { KEYMINT_KEY_REFRESH: '1s' }).keyRefreshMs, 1000)
})

test('request logs: every request by default, or only refusals, or none; anything else is a problem', () => {
  assert.equal(loadConfig({}, {}).log.requests, 'all')
  assert.equal(loadConfig({}, { KEYMINT_REQUEST_LOG: 'errors' }).log.requests, 'errors')
  assert.equal(loadConfig({ requestLog: 'off' }, {}).log.requests, 'off')
  assert.throws(() => loadConfig({}, { KEYMINT_REQUEST_LOG: 'verbose' }),
    (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && /^KEYMINT_REQUEST_LOG: must be one of all, errors, off/.test(err.problems[0] ?? ''))
})

test('a secret setting is never echoed, not even when malformed', () => {
  try {
    loadConfig({}, { KEYMINT_METRICS_TOKEN: 'hunter2 with spaces' })
    assert.fail('expected a ConfigError')
  } catch (err) {
    assert.ok(err instanceof ConfigError)
    assert.ok(!err.message.includes('hunter2'), err.message)
  }
})

test('a configuration file (--config or KEYMINT_CONFIG) sets the same keys; flags and variables win over it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keymint-config-'))
  try {
    const path = join(dir, 'keymint.json')
    writeFileSync(path, JSON.stringify({ port: 9100, host: '0.0.0.0', headerLifetime: '1h', previousMasterKeys: ['a', 'b'] }))
    const fromFile = loadConfig({ config: path }, {})
    assert.deepEqual([fromFile.server.port, fromFile.server.host, fromFile.tokens.headerLifetimeSeconds, fromFile.masterKey.previous], [9100, '0.0.0.0', 3600, ['a', 'b']])
    const overridden = loadConfig({ port: 9200 }, { KEYMINT_CONFIG: path, KEYMINT_HOST: '127.0.0.2' })
    assert.deepEqual([overridden.server.port, overridden.server.host], [9200, '127.0.0.2'])
    writeFileSync(path, JSON.stringify({ prot: 1, workers: 'many' }))
    assert.throws(() => loadConfig({ config: path }, {}), (err: unknown) => err instanceof ConfigError && err.problems.length === 2)
    writeFileSync(path, '{ nope')
    assert.throws(() => loadConfig({ config: path }, {}), /not valid JSON/)
    assert.throws(() => loadConfig({ config: join(dir, 'missing.json') }, {}), /ENOENT/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("the README's settings table is the one the schema makes", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('<!-- settings:start -->')
  const end = readme.indexOf('<!-- settings:end -->')
  assert.ok(start > 0 && end > start, 'README marks the table with <!-- settings:start --> … <!-- settings:end -->')
  assert.equal(readme.slice(start, end).replace('<!-- settings:start -->', '').trim(), renderSettingsTable(),
    'README settings table differs from src/config-schema.ts: run `npm run build && node dist/scripts/settings-table.js --write`')
})
