import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { createMetrics } from '../../src/runtime/metrics.js'
import { routesOf } from '../helpers/routes.js'
import { seedClient, startTestServer } from '../helpers/server.js'

const RULES = fileURLToPath(new URL('../../../deploy/prometheus/keymint-alerts.yml', import.meta.url))
const OPERATORS_GUIDE = fileURLToPath(new URL('../../../docs/operators.md', import.meta.url))

interface Rule { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }

/** The metric names keymint exposes, with a histogram's _count, _sum and _bucket. */
async function exposedMetrics(): Promise<Set<string>> {
  const text = await createMetrics({ revocationsCached: () => 0, throttleEntries: () => 0 }).exposition()
  const names = new Set<string>()
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!)
    if (type === 'histogram') for (const suffix of ['_count', '_sum', '_bucket']) names.add(`${name}${suffix}`)
  }
  return names
}

test('the shipped alert rules are valid and name only metrics keymint exposes', async () => {
  const promtool = await promisify(execFile)('promtool', ['check', 'rules', RULES]).then(
    (out) => ({ ran: true, out: out.stdout }),
    (err: NodeJS.ErrnoException & { stdout?: string; stderr?: string }) => {
      if (err.code === 'ENOENT') return { ran: false, out: '' }
      assert.fail(`promtool check rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`)
    },
  )
  if (promtool.ran) assert.match(promtool.out, /SUCCESS/)

  const doc = parseYaml(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }
  const rules = doc.groups.flatMap((g) => g.rules)
  const exposed = await exposedMetrics()
  for (const rule of rules) {
    assert.match(rule.alert, /^Keymint[A-Z]\w+$/)
    assert.ok(['critical', 'warning'].includes(rule.labels?.severity ?? ''), `${rule.alert}: a severity`)
    assert.ok(rule.annotations?.summary, `${rule.alert}: a summary`)
    for (const [name] of rule.expr.matchAll(/\bkeymint_\w+/g)) assert.ok(exposed.has(name), `${rule.alert}: keymint exposes no ${name}`)
  }
  const names = rules.map((r) => r.alert)
  const guide = readFileSync(OPERATORS_GUIDE, 'utf8')
  for (const name of names) assert.ok(guide.includes(`\`${name}\``), `docs/operators.md lists ${name} with the shipped alerts`)
  for (const wanted of ['KeymintTokenErrors', 'KeymintAuthenticationRefusals', 'KeymintDatabaseUnreachable', 'KeymintKeyPairsExpiring', 'KeymintKeyPairsExpiringWithinADay']) assert.ok(names.includes(wanted), wanted)
})

/** Runs `promtool test rules` on the given tests; undefined when promtool is not installed. */
async function promtoolTest(dir: string, name: string, tests: unknown[]): Promise<string | undefined> {
  const file = join(dir, name)
  writeFileSync(file, stringifyYaml({ rule_files: [RULES], evaluation_interval: '1m', tests }))
  return promisify(execFile)('promtool', ['test', 'rules', file]).then(
    (out) => out.stdout,
    (err: NodeJS.ErrnoException & { stdout?: string; stderr?: string }) => {
      if (err.code === 'ENOENT') return undefined
      assert.fail(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`)
    },
  )
}

test('the token error alert covers every route keymint hands out tokens at', async (t) => {
  // The token routes, as the app has them: every POST route that answers a token to a client's credentials.
  const { url, server, services } = await startTestServer(t, 'sqlite')
  const subscription = await seedClient(services, { level: 'subscription' })
  const user = await seedClient(services, { level: 'user' })
  const posts = routesOf(server.app).filter((r) => r.method === 'POST' && !r.url.includes(':') && !r.url.includes('*'))
  const tokenRoutes: string[] = []
  for (const { url: route } of posts) {
    const attempts: RequestInit[] = [
      { headers: { authorization: `Basic ${Buffer.from(`${subscription.clientId}:${subscription.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' },
      ...[subscription, user].map((c) => ({ headers: { clientId: c.clientId, clientSecret: c.clientSecret } })),
    ]
    for (const attempt of attempts) {
      const res = await fetch(`${url}${route}`, { method: 'POST', ...attempt })
      const body = await res.text()
      if (res.status === 200 && /\beyJ[\w-]+\.[\w-]+\.[\w-]+/.test(body)) {
        tokenRoutes.push(route)
        break
      }
    }
  }
  assert.ok(tokenRoutes.includes('/oauth2/token') && tokenRoutes.length >= 3, `the token routes were found: ${JSON.stringify(tokenRoutes)}`)

  const doc = parseYaml(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }
  const rule = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === 'KeymintTokenErrors')
  assert.ok(rule)
  const matchers = [...rule.expr.matchAll(/route=~"([^"]+)"/g)].map((m) => m[1]!)
  assert.equal(matchers.length, 2, 'errors and all requests, over the same routes')
  assert.equal(new Set(matchers).size, 1, 'errors and all requests, over the same routes')
  // PromQL anchors a regex at both ends.
  const anchored = new RegExp(`^(?:${matchers[0]})$`)
  for (const route of tokenRoutes) assert.match(route, anchored, `KeymintTokenErrors misses ${route}`)

  // And as Prometheus evaluates it: server errors on any one token route alone fire the alert.
  const dir = mkdtempSync(join(tmpdir(), 'keymint-alerts-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const out = await promtoolTest(dir, 'token-errors.test.yml', tokenRoutes.map((route) => ({
    interval: '1m',
    input_series: [
      { series: `keymint_http_request_duration_seconds_count{job="keymint", instance="a", route="${route}", status="200"}`, values: '0+60x20' },
      { series: `keymint_http_request_duration_seconds_count{job="keymint", instance="a", route="${route}", status="500"}`, values: '0+6x20' },
    ],
    alert_rule_test: [{
      eval_time: '15m', alertname: 'KeymintTokenErrors',
      exp_alerts: [{ exp_labels: { severity: 'critical', instance: 'a' }, exp_annotations: { summary: 'more than 1% of token requests on a fail with a server error' } }],
    }],
  })))
  if (out === undefined) t.skip('promtool is not installed')
  else assert.match(out, /SUCCESS/)
})

test('promtool: key pairs expiring within 7 days alert once, counted as one database however many instances report them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keymint-alerts-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  // Two instances see the same two pairs within 7 days from minute 10 on; none within a day.
  const out = await promtoolTest(dir, 'expiring.test.yml', [{
    interval: '1m',
    input_series: [
      { series: 'keymint_key_pairs_expiring{job="keymint", instance="a", horizon="7d"}', values: '0x9 2x30' },
      { series: 'keymint_key_pairs_expiring{job="keymint", instance="b", horizon="7d"}', values: '0x9 2x30' },
      { series: 'keymint_key_pairs_expiring{job="keymint", instance="a", horizon="1d"}', values: '0x40' },
    ],
    alert_rule_test: [
      { eval_time: '20m', alertname: 'KeymintKeyPairsExpiring', exp_alerts: [] },
      {
        eval_time: '30m', alertname: 'KeymintKeyPairsExpiring',
        exp_alerts: [{ exp_labels: { severity: 'warning' }, exp_annotations: { summary: '2 key pair(s) expire within 7 days: rotate them before integrations are refused (the dashboard\'s banner and GET /api/v1/key-pairs/expiring list them)' } }],
      },
      { eval_time: '30m', alertname: 'KeymintKeyPairsExpiringWithinADay', exp_alerts: [] },
    ],
  }])
  if (out === undefined) t.skip('promtool is not installed')
  else assert.match(out, /SUCCESS/)
})
