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

const RULES = fileURLToPath(new URL('../../../deploy/prometheus/keymint-alerts.yml', import.meta.url))

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
  for (const wanted of ['KeymintTokenErrors', 'KeymintAuthenticationRefusals', 'KeymintDatabaseUnreachable']) assert.ok(names.includes(wanted), wanted)
})

test('promtool: key pairs expiring within 7 days alert once, counted as one database however many instances report them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keymint-alerts-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const tests = join(dir, 'expiring.test.yml')
  // Two instances see the same two pairs within 7 days from minute 10 on; none within a day.
  writeFileSync(tests, stringifyYaml({
    rule_files: [RULES],
    evaluation_interval: '1m',
    tests: [{
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
    }],
  }))
  const result = await promisify(execFile)('promtool', ['test', 'rules', tests]).then(
    (out) => ({ ran: true, out: out.stdout }),
    (err: NodeJS.ErrnoException & { stdout?: string; stderr?: string }) => {
      if (err.code === 'ENOENT') return { ran: false, out: '' }
      assert.fail(`promtool test rules failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`)
    },
  )
  if (!result.ran) t.skip('promtool is not installed')
  else assert.match(result.out, /SUCCESS/)
})
