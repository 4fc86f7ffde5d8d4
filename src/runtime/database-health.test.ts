import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DatabaseUnavailable } from '../store/database.js'
import { DatabaseHealth } from './database-health.js'

function world() {
  let answers = false
  const logged: string[] = []
  const health = new DatabaseHealth({
    ping: async () => { if (!answers) throw new DatabaseUnavailable('the database cannot serve now (ECONNREFUSED)', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }) },
    log: { warn: (_o: unknown, msg?: string) => { logged.push(`warn ${msg}`) }, info: (_o: unknown, msg?: string) => { logged.push(`info ${msg}`) } } as never,
    now: () => new Date(),
    probeMs: 10,
  })
  return { health, logged, answer: (yes: boolean) => { answers = yes } }
}

test('an unreachable database is noted once, tried again until it answers, and then reachable again by itself', async () => {
  const w = world()
  const err = new DatabaseUnavailable('the database cannot serve now (ECONNREFUSED)', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) })
  w.health.noteError(err)
  w.health.noteError(err)
  assert.equal(w.health.down, true)
  assert.equal(w.health.state.reachable, false)
  await new Promise((resolve) => setTimeout(resolve, 40))
  assert.equal(w.health.down, true, 'still down while pings fail')
  w.answer(true)
  const deadline = Date.now() + 2000
  while (w.health.down && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
  assert.equal(w.health.down, false)
  assert.deepEqual(w.logged.map((l) => l.split(';')[0]), ['warn database unreachable', 'info database reachable again'])
  w.health.stop()
})

test('other errors, and SQLite turning a writer away while another writes, are not an outage', () => {
  const w = world()
  w.health.noteError(new Error('syntax error'))
  w.health.noteError(new DatabaseUnavailable('the database cannot serve now (SQLITE_BUSY)', { cause: Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }) }))
  assert.equal(w.health.down, false)
  w.health.stop()
})
