import type { MetricObjectWithValues, MetricType, MetricValueWithName } from 'prom-client'

const NAME = 'keymint_http_request_duration_seconds'
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const

interface Series {
  readonly labels: { readonly method: string; readonly route: string; readonly status: string }
  /** Per bucket, not cumulative; the last one is above every bound. */
  readonly counts: number[]
  sum: number
  count: number
}

/**
 * The request-duration histogram, in the shape prom-client's registries expose (and sum across
 * workers), recorded without prom-client's per-observation label hashing and validation: it is
 * timed on every request, tokens included. Series are keyed by method, status and route pattern
 * (bounded: the patterns are the routes').
 */
export class RequestDurations {
  readonly name = NAME
  readonly help = 'HTTP requests by method, route pattern and status, and how long they took'
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #series = new Map<string, Series>()

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`
    let series = this.#series.get(key)
    if (series === undefined) {
      series = { labels: { method, route, status: String(status) }, counts: new Array<number>(BUCKETS.length + 1).fill(0), sum: 0, count: 0 }
      this.#series.set(key, series)
    }
    let bucket = 0
    while (bucket < BUCKETS.length && seconds > BUCKETS[bucket]!) bucket++
    series.counts[bucket]!++
    series.sum += seconds
    series.count++
  }

  /** What prom-client's registries read: cumulative buckets, then sum and count, per series. */
  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = []
    for (const { labels, counts, sum, count } of this.#series.values()) {
      let cumulative = 0
      BUCKETS.forEach((le, i) => {
        cumulative += counts[i]!
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: `${NAME}_bucket` })
      })
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: `${NAME}_bucket` })
      values.push({ labels, value: sum, metricName: `${NAME}_sum` })
      values.push({ labels, value: count, metricName: `${NAME}_count` })
    }
    return { name: this.name, help: this.help, type: 'histogram' as unknown as MetricType, values, aggregator: 'sum', collect: () => {} }
  }

  reset(): void {
    this.#series.clear()
  }
}
