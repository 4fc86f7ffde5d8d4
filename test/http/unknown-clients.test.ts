import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'

const SECRET = `kmsk_${'Z'.repeat(43)}`

const ask = (s: TestServer, clientId: string, clientSecret: string, from: string) => fetch(`${s.url}/auth/oauth`, {
  method: 'POST', headers: { clientId, clientSecret, 'x-forwarded-for': from },
})

async function gauge(s: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return Number(line?.slice(name.length + 1))
}

describeEachDialect('made-up client ids', (dialect) => {
  test('a flood of unknown ids from many addresses: none is kept, lookups past the budget are shed with 503, known key pairs go on', async (t) => {
    // Every request from an address of its own: the per-address throttle never steps in. A low
    // rate, so that however slowly this machine answers, the 1200 lookups overrun it.
    const s = await startTestServer(t, dialect, { trustProxy: 'true', unknownClientRate: 20 })
    const known = await seedClient(s.services)
    assert.equal((await ask(s, known.clientId, known.clientSecret, '10.9.0.1')).status, 200)
    const statuses: number[] = []
    let retryAfter: string | null = null
    for (let batch = 0; batch < 12; batch++) {
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => ask(s, randomUUID(), SECRET, `10.${batch}.${i}.7`)))
      for (const res of answers) {
        statuses.push(res.status)
        if (res.status === 503) retryAfter ??= res.headers.get('retry-after')
      }
      assert.equal((await ask(s, known.clientId, known.clientSecret, '10.9.0.1')).status, 200, 'a key pair in memory is never shed')
    }
    const shed = statuses.filter((status) => status === 503).length
    assert.ok(shed > 0, 'lookups past the budget are shed')
    assert.ok(statuses.every((status) => status === 401 || status === 503), String([...new Set(statuses)]))
    assert.equal(retryAfter, '1')
    assert.equal(await gauge(s, 'keymint_credentials_cached'), 1, 'only the known key pair is held')
  })
})
