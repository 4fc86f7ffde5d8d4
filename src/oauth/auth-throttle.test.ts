import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { AuthThrottle, type FailureVerdict } from './auth-throttle.js'

const clock = () => {
  let now = Date.now()
  return { now: () => new Date(now), advance: (s: number) => { now += s * 1000 } }
}

const policy = { windowSeconds: 60, addressLimit: 100, clientLimit: 100, maxEntries: 1000 }

test('an address over its limit is refused before authentication until its window ends', () => {
  const c = clock()
  const t = new AuthThrottle({ ...policy, addressLimit: 4 }, c)
  for (let i = 0; i < 4; i++) {
    assert.equal(t.checkAddress('10.0.0.1').action, 'allow')
    assert.equal(t.recordFailure(`client-${i}`, '10.0.0.1').action, 'fail')
  }
  const refused = t.checkAddress('10.0.0.1')
  assert.ok(refused.action === 'refuse' && refused.retryAfterSeconds > 0 && refused.retryAfterSeconds <= 60)
  assert.equal(t.checkAddress('10.0.0.2').action, 'allow', 'other addresses are unaffected')
  c.advance(60)
  assert.equal(t.checkAddress('10.0.0.1').action, 'allow', 'the refusal ends with the window')
})

test('failures are slowed once half the limit is used, by the count that includes them', () => {
  const t = new AuthThrottle({ ...policy, addressLimit: 10 }, clock())
  const delays = Array.from({ length: 12 }, () => t.recordFailure('c', 'a').delayMs)
  assert.deepEqual(delays, [0, 0, 0, 0, 0, 100, 200, 300, 400, 500, 600, 700])
  const capped = new AuthThrottle({ ...policy, clientLimit: 4 }, clock())
  assert.equal(Array.from({ length: 40 }, () => capped.recordFailure('c', randomUUID()).delayMs).at(-1), 2000)
})

test('failures that were all admitted at once are still slowed and refused in turn', () => {
  const t = new AuthThrottle({ ...policy, clientLimit: 3 }, clock())
  // Ten attempts pass the address check before any of them fails, as parallel requests do.
  for (let i = 0; i < 10; i++) assert.equal(t.checkAddress(`203.0.113.${i}`).action, 'allow')
  const verdicts: FailureVerdict[] = Array.from({ length: 10 }, (_, i) => t.recordFailure('victim', `203.0.113.${i}`))
  assert.deepEqual(verdicts.map((v) => v.delayMs), [0, 100, 200, 300, 400, 500, 600, 700, 800, 900])
  assert.deepEqual(verdicts.map((v) => v.action), ['fail', 'fail', 'fail', ...Array<string>(7).fill('refuse')])
})

test('a client_id over its limit refuses only further failures, with the rest of its window', () => {
  const c = clock()
  const t = new AuthThrottle({ ...policy, clientLimit: 3 }, c)
  for (let i = 0; i < 3; i++) assert.equal(t.recordFailure('victim', `203.0.113.${i}`).action, 'fail')
  c.advance(20)
  const refused = t.recordFailure('victim', '198.51.100.1')
  assert.ok(refused.action === 'refuse' && refused.retryAfterSeconds === 40)
  assert.equal(t.checkAddress('198.51.100.2').action, 'allow', 'a fresh address with the right credentials gets through')
  assert.equal(t.recordFailure('another', '198.51.100.2').action, 'fail', 'other client_ids are unaffected')
  c.advance(40)
  assert.equal(t.recordFailure('victim', '198.51.100.1').action, 'fail', 'the count ends with the window')
})

test('memory stays bounded under a flood of random client ids and addresses', () => {
  const t = new AuthThrottle({ windowSeconds: 60, addressLimit: 5, clientLimit: 5, maxEntries: 1000 }, clock())
  for (let i = 0; i < 50_000; i++) t.recordFailure(randomUUID(), `198.51.${i >> 8 & 255}.${i & 255}`)
  assert.ok(t.size <= 2000, `size ${t.size}`)
})
