import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateRecoveryCode, hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js'

test('recovery codes: xxxx-xxxx-xxxx from an alphabet without i, l, o or u, all different', () => {
  const codes = Array.from({ length: 200 }, generateRecoveryCode)
  for (const code of codes) assert.match(code, /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/)
  assert.equal(new Set(codes).size, codes.length)
  // Every character of the alphabet turns up: all 32 are in use, 5 bits each.
  assert.equal(new Set(codes.join('').replaceAll('-', '')).size, 32)
})

test('recovery codes: case, hyphens, spaces and misread letters do not matter; the hash does not hold the code', () => {
  const code = '7k2m-q9xd-10hv'
  const hash = hashRecoveryCode(code)
  assert.match(hash, /^[A-Za-z0-9_-]{43}$/)
  assert.ok(!hash.includes('7k2m'))
  for (const typed of ['7K2M-Q9XD-10HV', '7k2mq9xd10hv', ' 7k2m q9xd 10hv ', '7k2m-q9xd-IOhv', '7k2m-q9xd-lohv']) {
    assert.equal(normalizeRecoveryCode(typed), '7k2mq9xd10hv', typed)
    assert.equal(hashRecoveryCode(typed), hash, typed)
  }
  for (const bad of ['', '123456', '7k2m-q9xd-10h', '7k2m-q9xd-10hvv', '7k2m-q9xd-10hu', '7k2m_q9xd_10hv']) {
    assert.equal(normalizeRecoveryCode(bad), undefined, bad)
  }
  assert.notEqual(hashRecoveryCode('7k2m-q9xd-10hw'), hash)
})
