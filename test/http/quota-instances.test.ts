import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ClientId } from '../../src/domain/types.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf } from '../helpers/management.js'
import { startAnotherInstance, startTestServer, type TestServer } from '../helpers/server.js'
import { form } from '../helpers/tokens.js'

// A quota is counted across instances through the usage flush (issue 15, item 4): two real
// instances on one database (a PostgreSQL database, or one SQLite file). The flush timers are set
// to an hour; the test flushes by hand, so "a flush interval" is a fixed number of requests.

interface Pair { readonly client_id: string; readonly client_secret: string }

const ask = async (s: TestServer, p: Pair): Promise<number> => (await fetch(`${s.url}/oauth2/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: form({ grant_type: 'client_credentials', client_id: p.client_id, client_secret: p.client_secret }),
})).status

/** Both clocks at 06:00 UTC of the next day: every request of the test falls in one UTC day. */
function morning(...servers: TestServer[]): void {
  for (const s of servers) {
    const now = s.clock.now().getTime()
    s.clock.advance((86_400_000 - (now % 86_400_000) + 6 * 3_600_000) / 1000)
  }
}

const QUOTA = 40
/** Requests each instance answers between two flushes: one flush interval's worth. */
const PER_INTERVAL = 5
const INSTANCES = 2
/** What the documentation promises: about two flush intervals of every instance's tokens. */
const OVERSHOOT_BOUND = 2 * INSTANCES * PER_INTERVAL

const QUIET = { lastUsedFlush: '1h', revocationPoll: '1h', keyRefresh: '1h' }

describeEachDialect('quotas across instances', (dialect) => {
  test('two instances enforce the combined count, overshooting by at most two flush intervals of tokens', async (t) => {
    const a = await startTestServer(t, dialect, QUIET)
    const b = await startAnotherInstance(t, a, QUIET)
    morning(a, b)
    const { call } = await adminOf(a)
    const created = await call('POST', '/clients', { name: 'metered', level: 'subscription', scopes: ['orders:read'], quota: { tokens: QUOTA, per: 'day' } })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const pair = created.body.key_pair as Pair

    let admitted = 0
    let firstRefusalAt: number | undefined
    const refusedBy = new Set<string>()
    for (let round = 0; round < 20 && refusedBy.size < INSTANCES; round++) {
      refusedBy.clear()
      for (const [name, s] of [['a', a], ['b', b]] as const) {
        for (let i = 0; i < PER_INTERVAL; i++) {
          const status = await ask(s, pair)
          if (status === 200) admitted++
          else {
            assert.equal(status, 429)
            firstRefusalAt ??= admitted
            refusedBy.add(name)
          }
        }
      }
      await a.server.flushUsage()
      await b.server.flushUsage()
    }
    assert.ok(firstRefusalAt !== undefined && firstRefusalAt >= QUOTA, `no refusal before the quota is reached (first at ${firstRefusalAt})`)
    assert.ok(admitted >= QUOTA, `the quota is given in full (${admitted})`)
    assert.ok(admitted <= QUOTA + OVERSHOOT_BOUND, `${admitted} tokens for a quota of ${QUOTA}: at most ${OVERSHOOT_BOUND} over`)
    assert.equal(refusedBy.size, INSTANCES, 'in the end both instances refuse')

    // Each instance counted its own and wrote it: the stored count is every token issued.
    const counts = await a.services.store.clientUsage.listTokenCounts([created.body.client.id as ClientId], 0)
    assert.equal(counts.reduce((sum, c) => sum + c.tokens, 0), admitted)

    // An instance that starts now reads the count before its first answer for the client.
    const c = await startAnotherInstance(t, a, QUIET)
    morning(c)
    assert.equal(await ask(c, pair), 429, 'a third instance refuses at its first request')
  })

  test('without the flushes each instance would only know its own count: the exchange is what enforces the quota', async (t) => {
    const a = await startTestServer(t, dialect, QUIET)
    const b = await startAnotherInstance(t, a, QUIET)
    morning(a, b)
    const { call } = await adminOf(a)
    const created = await call('POST', '/clients', { name: 'metered', level: 'subscription', quota: { tokens: 6, per: 'day' } })
    const pair = created.body.key_pair as Pair
    for (let i = 0; i < 6; i++) assert.equal(await ask(a, pair), 200, `a: token ${i + 1}`)
    assert.equal(await ask(a, pair), 429, 'a has used up the quota')
    assert.equal(await ask(b, pair), 200, 'b has not heard of it yet: the overshoot the bound allows')
    await a.server.flushUsage()
    await b.server.flushUsage()
    assert.equal(await ask(b, pair), 429, 'after one exchange b refuses too')
    assert.equal(await ask(a, pair), 429)
  })
})
