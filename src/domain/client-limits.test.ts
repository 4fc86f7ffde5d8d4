import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dayOf, parseQuota, parseRateLimit, quotaWindowOf, rateWindowOf, secondsUntil } from './client-limits.js'
import { InvalidInput } from './errors.js'
import { keptAddress, keptUserAgent } from './last-use.js'

test('rate limits as people write them', () => {
  const accepted: [string, unknown][] = [
    ['600/m', { requests: 600, per: 'minute' }], ['10/s', { requests: 10, per: 'second' }], ['5000/h', { requests: 5000, per: 'hour' }],
    ['1 / minute', { requests: 1, per: 'minute' }], ['20/SEC', { requests: 20, per: 'second' }], ['7/hr', { requests: 7, per: 'hour' }],
    ['1000000000/s', { requests: 1_000_000_000, per: 'second' }], ['none', null], [' None ', null],
  ]
  for (const [text, expected] of accepted) assert.deepEqual(parseRateLimit(text), expected, text)
  for (const text of ['', '600', '/m', '600/', '600/d', '600/month', '0/m', '-1/m', '1.5/m', '1e3/m', '1000000001/s', '600/m/s', '600 per minute', 'six/m']) {
    assert.throws(() => parseRateLimit(text), InvalidInput, JSON.stringify(text))
  }
})

test('quotas as people write them', () => {
  assert.deepEqual(parseQuota('100000/month'), { tokens: 100_000, per: 'month' })
  assert.deepEqual(parseQuota('2000/day'), { tokens: 2000, per: 'day' })
  assert.deepEqual(parseQuota('5/d'), { tokens: 5, per: 'day' })
  assert.deepEqual(parseQuota('5/mo'), { tokens: 5, per: 'month' })
  assert.equal(parseQuota('none'), null)
  for (const text of ['100000', '100000/m', '100000/year', '0/day', '5/week', 'x/day']) assert.throws(() => parseQuota(text), InvalidInput, text)
})

test('rate windows are fixed and aligned on the epoch; quota windows are UTC days and months', () => {
  const t = Date.UTC(2030, 1, 28, 23, 59, 30, 250)
  assert.deepEqual(rateWindowOf('minute', t), { start: Date.UTC(2030, 1, 28, 23, 59), end: Date.UTC(2030, 2, 1, 0, 0) })
  assert.deepEqual(rateWindowOf('second', t), { start: t - 250, end: t + 750 })
  assert.deepEqual(rateWindowOf('hour', t), { start: Date.UTC(2030, 1, 28, 23), end: Date.UTC(2030, 2, 1) })
  assert.deepEqual(quotaWindowOf('day', t), { start: Date.UTC(2030, 1, 28), end: Date.UTC(2030, 2, 1) })
  assert.deepEqual(quotaWindowOf('month', t), { start: Date.UTC(2030, 1, 1), end: Date.UTC(2030, 2, 1) })
  assert.deepEqual(quotaWindowOf('month', Date.UTC(2030, 11, 31, 12)), { start: Date.UTC(2030, 11, 1), end: Date.UTC(2031, 0, 1) }, 'December ends in the next year')
  assert.equal(dayOf(t), Date.UTC(2030, 1, 28))
  assert.equal(secondsUntil(rateWindowOf('minute', t), t), 30, 'rounded up')
  assert.equal(secondsUntil({ start: 0, end: t }, t), 1, 'never 0')
})

test('the kept User-Agent is printable and at most 200 characters; the address at most 64', () => {
  assert.equal(keptUserAgent(undefined), null)
  assert.equal(keptUserAgent('  \t '), null)
  assert.equal(keptUserAgent('curl/8.5.0'), 'curl/8.5.0')
  assert.equal(keptUserAgent('a\tb\r\nc\u0000d\u202ee\u200bf\u0085g'), 'a b c d e f g')
  const long = keptUserAgent(`${'é'.repeat(150)}${'😀'.repeat(100)}`)
  assert.equal(Array.from(long ?? '').length, 200)
  assert.ok(long?.endsWith('😀…'), 'never half a character')
  assert.equal(keptAddress('203.0.113.9'), '203.0.113.9')
  assert.equal(Array.from(keptAddress('x'.repeat(1000)) ?? '').length, 64)
})
