import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ADMIN_SCOPE, assertAdmin, assertMayGrant, assertMayTouch, isManagementScope, managementPowerOf, managementPowerOfUser, type Authority,
} from './authority.js'
import { Forbidden } from './errors.js'

const holding = (...scopes: string[]): Authority => ({ scopes: new Set(scopes) })
const refused = (err: unknown) => err instanceof Forbidden && err.code === 'KEYMINT_ADMIN_REQUIRED'
const admin = { role: 'admin' as const, scopes: ['keymint:audit:read', 'assets:read'] }
const member = { role: 'member' as const, scopes: ['keymint:audit:read', 'assets:read'] }

test('only keymint: scopes are management scopes', () => {
  assert.deepEqual(['keymint:admin', 'keymint:users:read', 'keymint', 'assets:read', 'all', 'KEYMINT:admin'].map(isManagementScope), [true, true, false, false, false, false])
})

test("a client's management power: its own keymint: scopes, as far as its owner holds them", () => {
  const cases: [string, Parameters<typeof managementPowerOf>[0], Parameters<typeof managementPowerOf>[1], string[]][] = [
    ['account level, unrestricted: none', { level: 'subscription', scopes: null }, null, []],
    ['account level, its keymint: scopes', { level: 'subscription', scopes: ['keymint:users:read', 'assets:read'] }, null, ['keymint:users:read']],
    ["an admin's client, unrestricted: the admin's keymint: scopes", { level: 'user', scopes: null }, admin, ['keymint:audit:read']],
    ["an admin's client: its scopes the admin holds too", { level: 'user', scopes: ['keymint:audit:read', 'keymint:admin'] }, admin, ['keymint:audit:read']],
    ["a member's client: never any", { level: 'user', scopes: ['keymint:audit:read'] }, member, []],
    ["a member's client, unrestricted: never any", { level: 'user', scopes: null }, member, []],
    ['a user-level client without its user: none', { level: 'user', scopes: null }, null, []],
  ]
  for (const [name, client, user, expected] of cases) assert.deepEqual(managementPowerOf(client, user), expected, name)
})

test("a user's management power: an admin holds every scope, a member its keymint: scopes", () => {
  assert.deepEqual(managementPowerOfUser({ role: 'admin', scopes: [] }), [ADMIN_SCOPE])
  assert.deepEqual(managementPowerOfUser(member), ['keymint:audit:read'])
  assert.deepEqual(managementPowerOfUser({ role: 'member', scopes: ['assets:read'] }), [])
})

test('granting management scopes is for keymint:admin; without an authority (the CLI) nothing is limited', () => {
  assertMayGrant(undefined, [ADMIN_SCOPE], 'x')
  assertMayGrant(holding(ADMIN_SCOPE), [ADMIN_SCOPE, 'keymint:users:read'], 'x')
  assertMayGrant(holding('keymint:users:write'), [], 'x')
  for (const grants of [[ADMIN_SCOPE], ['keymint:users:write'], ['keymint:audit:read']]) {
    assert.throws(() => assertMayGrant(holding('keymint:users:write', 'keymint:audit:read'), grants, 'x'), refused, 'even a scope the caller holds')
  }
})

test('touching what holds more than the caller is refused; what holds no more is allowed', () => {
  assertMayTouch(undefined, [ADMIN_SCOPE], 'x')
  assertMayTouch(holding(ADMIN_SCOPE), [ADMIN_SCOPE, 'keymint:audit:read'], 'x')
  assertMayTouch(holding('keymint:clients:write'), [], 'x')
  assertMayTouch(holding('keymint:clients:write', 'keymint:audit:read'), ['keymint:audit:read'], 'x')
  assert.throws(() => assertMayTouch(holding('keymint:clients:write'), ['keymint:audit:read'], 'x'), refused)
  assert.throws(() => assertMayTouch(holding('keymint:clients:write', 'keymint:audit:read'), [ADMIN_SCOPE], 'x'), refused)
})

test('admin-only changes need keymint:admin itself', () => {
  assertAdmin(undefined, 'x')
  assertAdmin(holding(ADMIN_SCOPE), 'x')
  const everyNarrowScope = holding('keymint:users:write', 'keymint:clients:write', 'keymint:keys:write', 'keymint:apis:write', 'keymint:audit:read')
  assert.throws(() => assertAdmin(everyNarrowScope, 'x'), refused)
})
