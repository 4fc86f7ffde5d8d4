import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backoffDelayMs, parseRetryAfter } from '../../src/client/backoff.js'
import { TokenError, TokenNetworkError } from '../../src/client/errors.js'
import { jwtLifetimeSeconds } from '../../src/client/jwt-lifetime.js'
import { withRetries } from '../../src/client/retry.js'

const policy = { maxRetries: 4, baseMs: 100, maxDelayMs: 1000 }

/** An attempt that fails with each of `errors` in turn, then succeeds. */
function failing(errors: unknown[]): { attempt: () => Promise<string>; calls: () => number } {
  let calls = 0
  return {
    attempt: async () => {
      const err = errors[calls++]
      if (err !== undefined) throw err
      return 'token'
    },
    calls: () => calls,
  }
}

test('backoff doubles from the base, stays within [ceiling/2, ceiling], and is capped', () => {
  for (const [retry, ceiling] of [[0, 100], [1, 200], [2, 400], [3, 800], [4, 1000], [10, 1000]] as const) {
    assert.equal(backoffDelayMs(retry, policy, () => 0), ceiling / 2)
    assert.equal(backoffDelayMs(retry, policy, () => 0.5), ceiling * 0.75)
    assert.ok(backoffDelayMs(retry, policy, () => 0.999999) < ceiling)
  }
})

test('Retry-After is read as delay-seconds or an HTTP-date', () => {
  const now = Date.parse('2025-01-01T00:00:00Z')
  assert.equal(parseRetryAfter('7', now), 7)
  assert.equal(parseRetryAfter(' 0 ', now), 0)
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30)
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now), 0)
  assert.equal(parseRetryAfter('soon', now), undefined)
  assert.equal(parseRetryAfter(null, now), undefined)
})

test('withRetries waits exactly Retry-After when the server gives one, else a jittered backoff', async () => {
  const waits: number[] = []
  const { attempt, calls } = failing([
    new TokenError('temporarily_unavailable', { status: 429, retryAfterSeconds: 1 }),
    new TokenNetworkError('http://x', new Error('ECONNRESET')),
    new TokenError('server_error', { status: 500 }),
  ])
  assert.equal(await withRetries(attempt, policy, async (ms) => { waits.push(ms) }, () => 0), 'token')
  assert.equal(calls(), 4)
  assert.deepEqual(waits, [1000, 100, 200])
})

test('withRetries stops at maxRetries, at a permanent failure, and at a Retry-After beyond the limit', async () => {
  const waits: number[] = []
  const wait = async (ms: number) => { waits.push(ms) }
  const always = Array.from({ length: 10 }, () => new TokenError('server_error', { status: 503 }))
  const bounded = failing(always)
  await assert.rejects(withRetries(bounded.attempt, { ...policy, maxRetries: 2 }, wait), TokenError)
  assert.equal(bounded.calls(), 3)

  for (const err of [new TokenError('invalid_client', { status: 401 }), new TokenError('temporarily_unavailable', { status: 429, retryAfterSeconds: 2 }), new TypeError('a bug')]) {
    const once = failing([err])
    await assert.rejects(withRetries(once.attempt, policy, wait), (e) => e === err)
    assert.equal(once.calls(), 1, String(err))
  }
  assert.equal(waits.length, 2)
})

test('JWT lifetime: exp − iat when both are there, exp against the clock otherwise, undefined for a JWE', () => {
  const jwt = (claims: object) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`
  assert.equal(jwtLifetimeSeconds(jwt({ iat: 1000, exp: 15400, name: 'é' }), 0), 14400)
  assert.equal(jwtLifetimeSeconds(jwt({ exp: 1300 }), 1000_000), 300)
  assert.equal(jwtLifetimeSeconds(jwt({ sub: 'x' }), 0), undefined)
  assert.equal(jwtLifetimeSeconds('a.b.c.d.e', 0), undefined)
  assert.equal(jwtLifetimeSeconds('a.!!.c', 0), undefined)
})
