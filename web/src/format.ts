const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [['day', 86_400], ['hour', 3_600], ['minute', 60], ['second', 1]]

/** "Mar 1, 2025, 9:30 AM" */
export function formatTime(iso: string): string {
  return absolute.format(new Date(iso))
}

/** "5 minutes ago", "in 1 hour" */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000)
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') return relative.format(Math.trunc(seconds / size), unit)
  }
  return absolute.format(new Date(iso))
}

/** "5 minutes ago (Mar 1, 2025, 9:30 AM)", or "never". */
export function formatLastUsed(iso: string | null): string {
  return iso === null ? 'never' : `${formatRelative(iso)} (${formatTime(iso)})`
}

/** "1 hour", "30 minutes", "2 days" */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of UNITS) {
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size
      return `${n} ${unit}${n === 1 ? '' : 's'}`
    }
  }
  return `${seconds} seconds`
}

/** Words out of a scopes field: commas or spaces between them. */
export function parseScopes(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s !== '')
}
