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
  const queue = new TurnQueue(1)
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

/** Which turn (counted by a chain of immediates) each of `n` callers got. */
async function turnsOf(queue: TurnQueue, n: number, beforeStart?: () => void): Promise<number[]> {
  let turn = 0
  let counting = true
  const count = (): void => { if (counting) { turn++; setImmediate(count) } }
  const got = Array.from({ length: n }, async () => {
    await queue.turn()
    return turn
  })
  beforeStart?.()
  setImmediate(count)
  const turns = await Promise.all(got)
  counting = false
  return turns
}

test('a turn admits up to `batch` callers', async () => {
  const turns = await turnsOf(new TurnQueue(4), 10)
  assert.deepEqual(turns.map((t) => t - turns[0]!), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
})

test('after a new connection the next turn admits one caller only', async () => {
  const queue = new TurnQueue(4)
  const turns = await turnsOf(queue, 6, () => queue.noteConnection())
  assert.deepEqual(turns.map((t) => t - turns[0]!), [0, 1, 1, 1, 1, 2])
})

test('a queue that ran dry starts again on the next caller', async () => {
  const queue = new TurnQueue()
  await queue.turn()
  assert.equal(queue.length, 0, 'ran dry')
  // A queue that forgot it ran dry would never schedule this turn: it would stall.
  const next = queue.turn().then(() => 'turned')
  const stalled = new Promise((resolve) => setTimeout(() => resolve('stalled'), 1000).unref())
  assert.equal(await Promise.race([next, stalled]), 'turned')
})
