import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TurnQueue } from './turn-queue.js'

const spin = (ms: number): void => {
  const until = performance.now() + ms
  while (performance.now() < until) { /* busy, like a signature */ }
}

test('turns are given in arrival order', async () => {
  const queue = new TurnQueue()
  const order: number[] = []
  await Promise.all([1, 2, 3, 4, 5].map(async (n) => {
    await queue.turn()
    order.push(n)
  }))
  assert.deepEqual(order, [1, 2, 3, 4, 5])
  assert.equal(queue.length, 0)
})

test('the event loop runs timers and I/O between turns, not only after the whole batch', async () => {
  const queue = new TurnQueue()
  const done: string[] = []
  const jobs = Array.from({ length: 40 }, async (_, i) => {
    await queue.turn()
    spin(2)
    done.push(`job ${i}`)
  })
  // Queued after all 40 jobs: without turns it would fire after every one of them.
  const timer = new Promise<void>((resolve) => setTimeout(() => { done.push('timer'); resolve() }, 0))
  await Promise.all([...jobs, timer])
  const at = done.indexOf('timer')
  assert.ok(at >= 0 && at <= 3, `the timer ran after ${at} jobs`)
  assert.equal(done.length, 41)
})

test('a queue that ran dry starts again on the next caller', async () => {
  const queue = new TurnQueue()
  await queue.turn()
  await queue.turn()
  let ran = false
  await queue.turn().then(() => { ran = true })
  assert.ok(ran)
})
