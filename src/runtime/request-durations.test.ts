import assert from 'node:assert/strict'
import { test } from 'node:test'
import client from 'prom-client'
import { RequestDurations } from './request-durations.js'

const lines = (text: string, prefix: string): string[] =>
  text.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length))

test('exposes exactly what a prom-client histogram with the same buckets and observations would', async () => {
  const registry = new client.Registry()
  const durations = new RequestDurations()
  registry.registerMetric(durations as unknown as client.Metric)
  const reference = new client.Histogram({
    name: 'reference_seconds', help: 'the same, by prom-client', labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  })
  const observations: [string, string, number, number][] = [
    ['POST', '/oauth2/token', 200, 0.0004], ['POST', '/oauth2/token', 200, 0.001], ['POST', '/oauth2/token', 200, 0.3],
    ['POST', '/oauth2/token', 401, 0.002], ['GET', 'unmatched', 404, 9],
  ]
  for (const [method, route, status, seconds] of observations) {
    durations.observe(method, route, status, seconds)
    reference.observe({ method, route, status: String(status) }, seconds)
  }
  const text = await registry.metrics()
  assert.deepEqual(lines(text, 'keymint_http_request_duration_seconds'), lines(text, 'reference_seconds'))
  assert.ok(text.includes('# TYPE keymint_http_request_duration_seconds histogram'))
})

test('workers\' series are summed by the cluster aggregator', async () => {
  const registry = new client.Registry()
  const durations = new RequestDurations()
  registry.registerMetric(durations as unknown as client.Metric)
  durations.observe('POST', '/auth/oauth', 200, 0.003)
  const worker = await registry.getMetricsAsJSON()
  const text = await client.AggregatorRegistry.aggregate([worker, worker]).metrics()
  assert.ok(text.includes('keymint_http_request_duration_seconds_count{method="POST",route="/auth/oauth",status="200"} 2'))
  assert.ok(text.includes('keymint_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/auth/oauth",status="200"} 2'))
})
