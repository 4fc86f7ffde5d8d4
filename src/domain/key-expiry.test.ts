import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidInput } from './errors.js'
import { dueHorizon } from './expiry-reminders.js'
import { keyLifetimeEnd, requireKeyExpiresIn } from './key-expiry.js'
import { keyPairEnd, keyPairState } from './types.js'

const at = (s: number) => new Date(Date.UTC(2030, 0, 1) + s * 1000)
const DAY = 86400

test('a pair ends at the first of its ends: revoked, grace ended or lifetime over decide its state', () => {
  const pair = (p: { revokedAt?: number; expiresAt?: number; lifetimeEndsAt?: number }) => ({
    revokedAt: p.revokedAt === undefined ? null : at(p.revokedAt),
    expiresAt: p.expiresAt === undefined ? null : at(p.expiresAt),
    lifetimeEndsAt: p.lifetimeEndsAt === undefined ? null : at(p.lifetimeEndsAt),
  })
  const cases: [string, ReturnType<typeof pair>, number, unknown][] = [
    ['no end', pair({}), 50, { state: 'active' }],
    ['before its lifetime', pair({ lifetimeEndsAt: 100 }), 99, { state: 'active' }],
    ['at its lifetime', pair({ lifetimeEndsAt: 100 }), 100, { state: 'expired', since: at(100) }],
    ['revoked before its lifetime', pair({ revokedAt: 50, lifetimeEndsAt: 100 }), 200, { state: 'revoked', since: at(50) }],
    ['in a grace that outlives its lifetime', pair({ expiresAt: 150, lifetimeEndsAt: 100 }), 99, { state: 'grace', until: at(150) }],
    ['expired inside a grace', pair({ expiresAt: 150, lifetimeEndsAt: 100 }), 120, { state: 'expired', since: at(100) }],
    ['a grace that ended before its lifetime', pair({ expiresAt: 80, lifetimeEndsAt: 100 }), 120, { state: 'revoked', since: at(80) }],
  ]
  for (const [name, p, now, expected] of cases) assert.deepEqual(keyPairState(p, at(now)), expected, name)
  assert.deepEqual(keyPairEnd(pair({ expiresAt: 150, lifetimeEndsAt: 100 })), at(100))
  assert.deepEqual(keyPairEnd(pair({ expiresAt: 80, lifetimeEndsAt: 100 })), at(80))
  assert.equal(keyPairEnd(pair({})), null)
})

test('a new pair lives as asked, else the account default, else its maximum; never longer than the maximum', () => {
  const now = at(0)
  const account = (d: number | null, m: number | null) => ({ defaultKeyExpiresIn: d, maxKeyExpiresIn: m })
  assert.equal(keyLifetimeEnd(account(null, null), undefined, now), null)
  assert.deepEqual(keyLifetimeEnd(account(null, null), 7 * DAY, now), at(7 * DAY))
  assert.deepEqual(keyLifetimeEnd(account(30 * DAY, null), undefined, now), at(30 * DAY))
  assert.deepEqual(keyLifetimeEnd(account(30 * DAY, 90 * DAY), 90 * DAY, now), at(90 * DAY))
  assert.deepEqual(keyLifetimeEnd(account(null, 90 * DAY), undefined, now), at(90 * DAY))
  assert.throws(() => keyLifetimeEnd(account(30 * DAY, 90 * DAY), 90 * DAY + 1, now), (e) => e instanceof InvalidInput && e.code === 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM')
  for (const bad of [0, 3599, 3650 * DAY + 1, 3600.5, Number.NaN, Infinity, -DAY]) {
    assert.throws(() => requireKeyExpiresIn(bad, 'key expiry'), (e) => e instanceof InvalidInput && e.code === 'KEYMINT_INVALID_INPUT', String(bad))
  }
  assert.equal(requireKeyExpiresIn(3600, 'key expiry'), 3600)
})

test('the reminder due is the narrowest horizon reached', () => {
  const end = at(40 * DAY)
  assert.equal(dueHorizon(end, at(9 * DAY)), undefined)
  assert.equal(dueHorizon(end, at(10 * DAY)), '30d')
  assert.equal(dueHorizon(end, at(33 * DAY)), '7d')
  assert.equal(dueHorizon(end, at(39 * DAY)), '1d')
  assert.equal(dueHorizon(end, at(40 * DAY)), 'expired')
})
