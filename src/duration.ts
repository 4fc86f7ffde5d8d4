// Durations as people write them on a command line: `90`, `90s`, `10m`, `4h`, `7d`.
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }
const DURATION = /^(\d{1,9})(s|m|h|d)?$/

export class DurationError extends Error {
  override readonly name = 'DurationError'
}

/** Parses a duration to whole seconds; throws DurationError naming the bad value. */
export function parseDuration(text: string, what: string): number {
  const match = DURATION.exec(text.trim())
  if (!match) {
    throw new DurationError(`invalid ${what} ${JSON.stringify(text.slice(0, 40))}: use a number with s, m, h or d (e.g. 10m, 4h)`)
  }
  return Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] ?? 1)
}

export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0 && seconds >= size) return `${seconds / size}${unit}`
  }
  return `${seconds}s`
}
