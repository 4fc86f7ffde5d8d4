/**
 * The ids of DPoP proofs a resource server accepted, each until its proof is too old to be
 * accepted anyway, so a proof works once (RFC 9449 §11.1). In memory: one process's view, bounded.
 *
 * @internal
 */
export interface ProofReplayCache {
  /** False when `id` was accepted before and its time is not over. */
  remember(id: string, expiresAtMs: number, nowMs: number): boolean
}

const SWEEP_EVERY_MS = 10_000

/**
 * A replay cache of at most `maxEntries` ids; past that, the oldest are forgotten first (a
 * flood costs bounded memory, at worst reopening the oldest proofs of the window).
 *
 * @param maxEntries - how many ids to hold
 * @internal
 */
export function createProofReplayCache(maxEntries: number): ProofReplayCache {
  const seen = new Map<string, number>()
  let nextSweep = 0
  return {
    remember(id, expiresAtMs, nowMs) {
      if (nowMs >= nextSweep) {
        for (const [key, until] of seen) if (until <= nowMs) seen.delete(key)
        nextSweep = nowMs + SWEEP_EVERY_MS
      }
      const until = seen.get(id)
      if (until !== undefined && until > nowMs) return false
      if (seen.size >= maxEntries) seen.delete(seen.keys().next().value as string)
      seen.set(id, expiresAtMs)
      return true
    },
  }
}
