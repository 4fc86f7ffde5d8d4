import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { loadConfig, ConfigError } from '../../src/config.js'
import { keymintJson, serve } from '../helpers/cli.js'
import { seedClient, startTestServer, tempDir } from '../helpers/server.js'
import { form } from '../helpers/tokens.js'

/** The value of one sample line, e.g. `name{label="x"}`; undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const scrape = async (url: string, init?: RequestInit): Promise<string> => {
  const res = await fetch(`${url}/metrics`, init)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return res.text()
}

test('/metrics counts issued tokens per dialect, refused authentications per reason, and times routes by pattern', async (t) => {
  const { url, services } = await startTestServer(t, 'sqlite')
  const before = await scrape(url)
  assert.equal(sample(before, 'keymint_tokens_issued_total{dialect="header"}'), 0)
  assert.equal(sample(before, 'keymint_tokens_issued_total{dialect="oauth2"}'), 0)

  const client = await seedClient(services)
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${url}/auth/oauth`, { method: 'POST', headers: { clientId: client.clientId, clientSecret: client.clientSecret } })
    assert.equal(res.status, 200)
  }
  const good = await fetch(`${url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
  })
  assert.equal(good.status, 200)
  const wrong = await fetch(`${url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'kmsk_' + 'A'.repeat(43) }),
  })
  assert.equal(wrong.status, 401)
  // Random paths must not each become a series.
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${url}/api/v1/no-such-${randomUUID()}`)).status, 404)

  const text = await scrape(url)
  assert.equal(sample(text, 'keymint_tokens_issued_total{dialect="header"}'), 2)
  assert.equal(sample(text, 'keymint_tokens_issued_total{dialect="oauth2"}'), 1)
  assert.equal(sample(text, 'keymint_client_authentications_refused_total{reason="secret_mismatch"}'), 1)
  assert.equal(sample(text, 'keymint_http_request_duration_seconds_count{method="POST",route="/auth/oauth",status="200"}'), 2)
  assert.equal(sample(text, 'keymint_http_request_duration_seconds_count{method="POST",route="/oauth2/token",status="401"}'), 1)
  assert.equal(sample(text, 'keymint_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}'), 3)
  assert.ok(!text.includes('no-such-'), 'raw URLs never become labels')
  assert.equal(typeof sample(text, 'keymint_revocations_cached'), 'number')
  assert.ok((sample(text, 'keymint_auth_throttle_entries') ?? 0) >= 1)
  assert.ok((sample(text, 'process_cpu_seconds_total') ?? -1) >= 0, 'process metrics are there')
  assert.ok(!text.includes(client.clientSecret) && !text.includes(client.clientId), 'no credentials in metrics')
})

test('with KEYMINT_METRICS_TOKEN set, /metrics wants exactly that bearer token', async (t) => {
  const token = 'scrape-' + randomUUID()
  const { url } = await startTestServer(t, 'sqlite', { metricsToken: token })
  for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${token}`, `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`]) {
    const res = await fetch(`${url}/metrics`, authorization === undefined ? {} : { headers: { authorization } })
    assert.equal(res.status, 401, String(authorization))
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="metrics"')
    const body = await res.json() as { error: string }
    assert.equal(body.error, 'invalid_token')
  }
  await scrape(url, { headers: { authorization: `Bearer ${token}` } })
})

test('a malformed metrics token is refused at start without being echoed', () => {
  const secret = 'short secret'
  assert.throws(() => loadConfig({}, { KEYMINT_METRICS_TOKEN: secret }), (err: unknown) => {
    assert.ok(err instanceof ConfigError)
    assert.match(err.message, /KEYMINT_METRICS_TOKEN/)
    assert.ok(!err.message.includes(secret))
    return true
  })
})

test('serve --workers 2: any worker answers /metrics with the sum over all workers', async (t) => {
  const dir = tempDir(t)
  const db = `sqlite:${dir}/k.db`
  const account = await keymintJson<{ id: string }>(['account', 'create', '--db', db, '--name', 'm'])
  const client = await keymintJson<{ client_id: string; client_secret: string }>([
    'client', 'create', '--db', db, '--account', account.id, '--name', 'c', '--level', 'subscription',
  ])
  const server = await serve(t, ['--db', db, '--port', '0', '--workers', '2'], { env: { KEYMINT_LOG_LEVEL: 'warn' } })
  const tokens = 12
  for (let i = 0; i < tokens; i++) {
    // A fresh connection each time, so the cluster's round-robin spreads them over both workers.
    const res = await fetch(`${server.url}/auth/oauth`, {
      method: 'POST', headers: { clientId: client.client_id, clientSecret: client.client_secret, connection: 'close' },
    })
    assert.equal(res.status, 200)
  }
  for (let i = 0; i < 3; i++) {
    const text = await scrape(server.url, { headers: { connection: 'close' } })
    assert.equal(sample(text, 'keymint_tokens_issued_total{dialect="header"}'), tokens)
  }
  server.child.kill('SIGTERM')
  assert.equal(await server.exited, 0)
})
