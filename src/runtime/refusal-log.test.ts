import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import type { AuditEvent } from '../domain/audit.js'
import { RefusalLog } from './refusal-log.js'

function logOf() {
  const written: AuditEvent[] = []
  const log = new RefusalLog({
    audit: { insert: (events) => { written.push(...events); return Promise.resolve() }, list: () => Promise.resolve([]) },
    clock: { now: () => new Date(0) },
    onError: (err) => { throw err },
  })
  return { log, written }
}

test('unknown client ids fold into one row per address and reason, counting the ids without naming them', async () => {
  const { log, written } = logOf()
  const ids = Array.from({ length: 60 }, () => randomUUID())
  for (const id of ids) log.record({ clientId: id, address: '203.0.113.7', reason: 'unknown_client', accountId: null })
  for (let i = 0; i < 3; i++) log.record({ clientId: 'not-a-uuid', address: '203.0.113.7', reason: 'malformed_client_id', accountId: null })
  log.record({ clientId: ids[0]!, address: '203.0.113.8', reason: 'unknown_client', accountId: null })
  await log.flush()
  assert.deepEqual(written.map((e) => [e.reason, e.details.address, e.count, e.details.client_ids, e.target, e.accountId]).sort(), [
    ['malformed_client_id', '203.0.113.7', 3, 1, null, null],
    ['unknown_client', '203.0.113.7', 60, 60, null, null],
    ['unknown_client', '203.0.113.8', 1, 1, null, null],
  ])
  assert.ok(ids.every((id) => !JSON.stringify(written).includes(id)))
})

test('a known client keeps its client_id and account', async () => {
  const { log, written } = logOf()
  const [clientId, accountId] = [randomUUID(), randomUUID()]
  for (let i = 0; i < 4; i++) log.record({ clientId, address: '192.0.2.1', reason: 'secret_mismatch', accountId })
  await log.flush()
  assert.deepEqual(written.map((e) => [e.actor, e.target, e.accountId, e.reason, e.count, e.details]), [
    [`client:${clientId}`, clientId, accountId, 'secret_mismatch', 4, { address: '192.0.2.1' }],
  ])
})

test('ids are counted up to 100 per row', async () => {
  const { log, written } = logOf()
  for (let i = 0; i < 500; i++) log.record({ clientId: randomUUID(), address: '203.0.113.7', reason: 'unknown_client', accountId: null })
  await log.flush()
  assert.deepEqual(written.map((e) => [e.count, e.details.client_ids]), [[500, 100]])
})

test('past its bound, rows fold further, and a known client\'s stay with its account', async () => {
  const { log, written } = logOf()
  const accountId = randomUUID()
  for (let i = 0; i < 12_000; i++) {
    const address = `198.51.${i >> 8 & 255}.${i & 255}`
    log.record({ clientId: randomUUID(), address, reason: 'unknown_client', accountId: null })
    log.record({ clientId: randomUUID(), address, reason: 'secret_mismatch', accountId })
  }
  await log.flush()
  assert.ok(written.length <= 20_002, `${written.length} rows`)
  const folded = written.filter((e) => e.details.address === '*')
  assert.deepEqual(folded.map((e) => [e.reason, e.accountId, e.target, e.count]).sort(), [
    ['secret_mismatch', accountId, null, 2000],
    ['unknown_client', null, null, 2000],
  ])
  assert.equal(written.reduce((n, e) => n + e.count, 0), 24_000)
})
