import type { TestContext } from 'node:test'

/** Longer than any cleanup takes under load; one that hangs fails its test, named, and the rest go on. */
const CLEANUP_LIMIT_MS = 60_000

interface Undo {
  readonly fn: () => unknown
  /** Where the cleanup was registered, to name it if it hangs. */
  readonly registeredAt: string
}

const stacks = new WeakMap<TestContext, Undo[]>()

/**
 * Runs `fn` after the test, helpers' cleanups in reverse order of registration: a server closes
 * before its database is dropped, and the database before its directory is removed. (`t.after`
 * alone runs hooks in the order they were registered, which is the wrong way round here.)
 */
export function cleanup(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t)
  if (!stack) {
    const undos: Undo[] = []
    stacks.set(t, undos)
    stack = undos
    t.after(async () => {
      const errors: unknown[] = []
      for (const undo of undos.reverse()) {
        try {
          await withinLimit(undo)
        } catch (err) {
          errors.push(err)
        }
      }
      if (errors.length === 1) throw errors[0]
      if (errors.length > 1) throw new AggregateError(errors, 'several cleanups failed')
    })
  }
  stack.push({ fn, registeredAt: callerOf(new Error()) })
}

async function withinLimit(undo: Undo): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the cleanup registered at ${undo.registeredAt} did not finish within ${CLEANUP_LIMIT_MS} ms`)), CLEANUP_LIMIT_MS)
  })
  try {
    await Promise.race([Promise.resolve().then(undo.fn), late])
  } finally {
    clearTimeout(timer)
  }
}

/** The two stack frames that led to `cleanup` (a helper, and the test that called it). */
function callerOf(err: Error): string {
  const frames = (err.stack ?? '').split('\n').slice(1).map((line) => line.trim().replace(/^at /, ''))
  const outside = frames.filter((frame) => !frame.includes('/helpers/cleanup.')).slice(0, 2)
  return outside.length > 0 ? outside.join(', called from ') : 'an unknown place'
}
