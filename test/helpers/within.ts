import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'

/** What each instance must learn of another's changes within (DESIGN §5): a second. */
export const PROPAGATION_MS = 1000

/** Polls `check` every `everyMs` until it holds; fails after `ms`. Returns how long it took. */
export async function within(ms: number, what: string, check: () => Promise<boolean>, everyMs = 20): Promise<number> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > ms) assert.fail(`${what}: not within ${ms} ms`)
    await sleep(everyMs)
  }
  return Date.now() - start
}
