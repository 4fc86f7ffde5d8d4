import { InvalidInput } from './errors.js'
import { LIMIT_MODES, QUOTA_PERIODS, RATE_PERIODS } from './types.js'
import type { LimitMode, Quota, QuotaPeriod, RateLimit, RatePeriod } from './types.js'

// Per-client rate limits and quotas (issue 15, item 4): their values, as people write them and as
// the API sends them, and the windows they count in.

/** The largest count either limit takes: far above any real need, far below Number's exact range. */
export const MAX_LIMIT = 1_000_000_000

const RATE_PERIOD_MS: Readonly<Record<RatePeriod, number>> = { second: 1000, minute: 60_000, hour: 3_600_000 }
const DAY_MS = 86_400_000

// `600/m`, `10/s`, `5000/hour`; `100000/month`, `2000/day`.
const RATE_TEXT = /^(\d{1,10})\s*\/\s*(s|sec|second|m|min|minute|h|hr|hour)$/i
const QUOTA_TEXT = /^(\d{1,10})\s*\/\s*(d|day|mo|month)$/i
const RATE_UNITS: Readonly<Record<string, RatePeriod>> = { s: 'second', sec: 'second', second: 'second', m: 'minute', min: 'minute', minute: 'minute', h: 'hour', hr: 'hour', hour: 'hour' }
const QUOTA_UNITS: Readonly<Record<string, QuotaPeriod>> = { d: 'day', day: 'day', mo: 'month', month: 'month' }

/** Words that clear a limit where one is given as text (`--rate-limit none`). */
export const NO_LIMIT = 'none'

function requireCount(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_LIMIT) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `${what} must be a whole number from 1 to ${MAX_LIMIT}`)
  }
  return value
}

function requirePeriod<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new InvalidInput('KEYMINT_INVALID_INPUT', `${what} must be one of: ${allowed.join(', ')}`)
  return value as T
}

export function requireRateLimit(value: { readonly requests: number; readonly per: string }): RateLimit {
  return { requests: requireCount(value.requests, 'rate limit'), per: requirePeriod(value.per, RATE_PERIODS, 'rate limit period') }
}

export function requireQuota(value: { readonly tokens: number; readonly per: string }): Quota {
  return { tokens: requireCount(value.tokens, 'quota'), per: requirePeriod(value.per, QUOTA_PERIODS, 'quota period') }
}

export const requireLimitMode = (value: string): LimitMode => requirePeriod(value, LIMIT_MODES, 'quota mode')

/** `600/m` as a rate limit; `none` as null. */
export function parseRateLimit(text: string): RateLimit | null {
  const value = text.trim()
  if (value.toLowerCase() === NO_LIMIT) return null
  const match = RATE_TEXT.exec(value)
  if (!match) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `invalid rate limit ${JSON.stringify(text.slice(0, 40))}: use requests per s, m or h (e.g. 600/m), or ${NO_LIMIT}`)
  }
  return requireRateLimit({ requests: Number(match[1]), per: RATE_UNITS[match[2]!.toLowerCase()]! })
}

/** `100000/month` as a quota; `none` as null. */
export function parseQuota(text: string): Quota | null {
  const value = text.trim()
  if (value.toLowerCase() === NO_LIMIT) return null
  const match = QUOTA_TEXT.exec(value)
  if (!match) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `invalid quota ${JSON.stringify(text.slice(0, 40))}: use tokens per day or month (e.g. 100000/month), or ${NO_LIMIT}`)
  }
  return requireQuota({ tokens: Number(match[1]), per: QUOTA_UNITS[match[2]!.toLowerCase()]! })
}

/** `600 token requests per minute` */
export const describeRateLimit = (r: RateLimit): string => `${r.requests} token request${r.requests === 1 ? '' : 's'} per ${r.per}`
/** `100000 tokens per month` */
export const describeQuota = (q: Quota): string => `${q.tokens} token${q.tokens === 1 ? '' : 's'} per ${q.per}`

/** A window, as epoch milliseconds: [start, end). */
export interface LimitWindow { readonly start: number; readonly end: number }

/** Rate limits count in fixed windows aligned on the epoch, alike on every instance. */
export function rateWindowOf(per: RatePeriod, nowMs: number): LimitWindow {
  const size = RATE_PERIOD_MS[per]
  const start = nowMs - (nowMs % size)
  return { start, end: start + size }
}

/** The UTC day holding `nowMs`, as its first millisecond: the bucket quota counts are kept in. */
export const dayOf = (nowMs: number): number => nowMs - (((nowMs % DAY_MS) + DAY_MS) % DAY_MS)

/** Quotas count in UTC calendar days or months. */
export function quotaWindowOf(per: QuotaPeriod, nowMs: number): LimitWindow {
  if (per === 'day') {
    const start = dayOf(nowMs)
    return { start, end: start + DAY_MS }
  }
  const now = new Date(nowMs)
  return { start: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1), end: Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) }
}

/** Whole seconds from `nowMs` to the end of the window, at least 1: a `Retry-After`. */
export const secondsUntil = (window: LimitWindow, nowMs: number): number => Math.max(1, Math.ceil((window.end - nowMs) / 1000))
