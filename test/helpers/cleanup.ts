import type { TestContext } from 'node:test'

const stacks = new WeakMap<TestContext, (() => unknown)[]>()

/**
 * Runs `fn` after the test, helpers' cleanups in reverse order of registration: a server closes
 * before its database is dropped, and the database before its directory is removed. (`t.after`
 * alone runs hooks in the order they were registered, which is the wrong way round here.)
 */
export function cleanup(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t)
  if (!stack) {
    const fns: (() => unknown)[] = []
    stacks.set(t, fns)
    stack = fns
    t.after(async () => {
      const errors: unknown[] = []
      for (const undo of fns.reverse()) {
        try {
          await undo()
        } catch (err) {
          errors.push(err)
        }
      }
      if (errors.length === 1) throw errors[0]
      if (errors.length > 1) throw new AggregateError(errors, 'several cleanups failed')
    })
  }
  stack.push(fn)
}
