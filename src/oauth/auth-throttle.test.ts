import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { AuthThrottle } from './auth-throttle.js'

const clock = () => {
  let now = Date.now()
  return { now: () => new Date(now), advance: (s: number) => { now += s * 1000 } }
}

test('an address over its limit is refused until its window ends', () => {
  const c = clock()
  const t = new AuthThrottle({ windowSeconds: 60, addressLimit: 4, clientLimit: 100, maxEntries: 1000 }, c)
  for (let i = 0; i < 4; i++) {
    assert.equal(t.check(`client-${i}`, '10.0.0.1').action, 'allow')
    t.recordFailure(`client-${i}`, '10.0.0.1')
  }
  const refused = t.check('another', '10.0.0.1')
  assert.equal(refused.action, 'refuse')
  assert.ok(refused.action === 'refuse' && refused.retryAfterSeconds > 0 && refused.retryAfterSeconds <= 60)
  assert.equal(t.check('another', '10.0.0.2').action, 'allow', 'other addresses are unaffected')
  c.advance(60)
  assert.equal(t.check('another', '10.0.0.1').action, 'allow', 'the refusal ends with the window')
})

test('failures are slowed once half the limit is used', () => {
  const t = new AuthThrottle({ windowSeconds: 60, addressLimit: 10, clientLimit: 100, maxEntries: 1000 }, clock())
  const delays = []
  for (let i = 0; i < 9; i++) {
    const v = t.check('c', 'a')
    delays.push(v.action === 'allow' ? v.delayMs : -1)
    t.recordFailure('c', 'a')
  }
  assert.deepEqual(delays, [0, 0, 0, 0, 0, 0, 100, 200, 300])
})

test('a client_id over its limit stays usable from the addresses it authenticated from', () => {
  const t = new AuthThrottle({ windowSeconds: 60, addressLimit: 100, clientLimit: 3, maxEntries: 1000 }, clock())
  t.recordSuccess('victim', '192.0.2.10')
  for (let i = 0; i < 3; i++) t.recordFailure('victim', `203.0.113.${i}`)
  assert.equal(t.check('victim', '203.0.113.99').action, 'refuse')
  assert.equal(t.check('victim', '192.0.2.10').action, 'allow')
})

test('memory stays bounded under a flood of random client ids and addresses', () => {
  const t = new AuthThrottle({ windowSeconds: 60, addressLimit: 5, clientLimit: 5, maxEntries: 1000 }, clock())
  for (let i = 0; i < 50_000; i++) {
    t.recordFailure(randomUUID(), `198.51.${i >> 8 & 255}.${i & 255}`)
    t.recordSuccess(randomUUID(), `198.51.${i >> 8 & 255}.${i & 255}`)
  }
  assert.ok(t.size <= 3000, `size ${t.size}`)
})
