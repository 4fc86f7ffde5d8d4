import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ClientCredential } from '../domain/types.js'
import { InvalidScope } from './errors.js'
import { grantScope } from './scopes.js'

const KEYMINT = { isKeymint: true }
const OTHER_API = { isKeymint: false }

const credential = (clientScopes: string[] | null, userScopes?: string[], role: 'admin' | 'member' = 'admin'): ClientCredential => ({
  keyPair: { id: 'k' as never, secretHash: Buffer.alloc(32), expiresAt: null, revokedAt: null, lifetimeEndsAt: null },
  client: {
    id: 'c' as never, accountId: 'a' as never, name: 'n', level: userScopes ? 'user' : 'subscription', userId: null,
    scopes: clientScopes, lifetimeSeconds: null, tokenEncryption: null, publicJwk: null, signingAlg: null, secretAuth: true, requireDPoP: false, createdAt: new Date(),
    disabled: false, tokensCutOffAt: null, rateLimit: null, quota: null, quotaMode: 'enforce',
  },
  accountPlan: 'enterprise',
  user: userScopes ? { id: 'u' as never, role, permissions: ['ui', 'api'], scopes: userScopes, disabled: false, tokensCutOffAt: null } : null,
})

test('an unrestricted client reports "all" and may narrow to any API scope', () => {
  assert.equal(grantScope(credential(null), undefined, KEYMINT), 'all')
  assert.equal(grantScope(credential(null), 'all', KEYMINT), 'all')
  assert.equal(grantScope(credential(null), 'assets:read', KEYMINT), 'assets:read')
})

test("unrestricted access never implies keymint's own scopes", () => {
  assert.throws(() => grantScope(credential(null), 'keymint:admin', KEYMINT), InvalidScope)
  assert.throws(() => grantScope(credential(null), 'all keymint:keys:write', KEYMINT), InvalidScope)
  assert.equal(grantScope(credential(['keymint:admin']), 'keymint:admin', KEYMINT), 'keymint:admin')
})

test('a user-level client gets at most the intersection of its and its user\'s scopes', () => {
  assert.equal(grantScope(credential(['a', 'b'], ['b', 'c']), undefined, KEYMINT), 'b')
  assert.equal(grantScope(credential(null, ['b', 'c']), undefined, KEYMINT), 'b c')
  assert.throws(() => grantScope(credential(['a', 'b'], ['b', 'c']), 'a', KEYMINT), InvalidScope)
  assert.throws(() => grantScope(credential(null, ['b']), 'all', KEYMINT), InvalidScope)
})

test("keymint: scopes appear only in tokens for keymint itself, and never for a member's client", () => {
  assert.equal(grantScope(credential(['keymint:admin', 'assets:read']), undefined, OTHER_API), 'assets:read')
  assert.throws(() => grantScope(credential(['keymint:admin', 'assets:read']), 'keymint:admin', OTHER_API), InvalidScope)
  assert.equal(grantScope(credential(null, ['keymint:admin', 'assets:read'], 'member'), undefined, KEYMINT), 'assets:read')
  assert.throws(() => grantScope(credential(null, ['keymint:admin'], 'member'), 'keymint:admin', KEYMINT), InvalidScope)
  assert.equal(grantScope(credential(null, ['keymint:admin', 'assets:read'], 'admin'), undefined, KEYMINT), 'assets:read keymint:admin')
})

test('a token that would carry no scope is invalid_scope', () => {
  assert.throws(() => grantScope(credential([]), undefined, KEYMINT), InvalidScope)
  assert.throws(() => grantScope(credential(null, [], 'member'), undefined, KEYMINT), InvalidScope)
  assert.throws(() => grantScope(credential(['keymint:audit:read']), undefined, OTHER_API), InvalidScope)
  assert.throws(() => grantScope(credential(null, ['keymint:admin'], 'member'), undefined, KEYMINT), InvalidScope)
})

test('an admin without a scope list acts for the whole account, but never with keymint: scopes', () => {
  assert.equal(grantScope(credential(null, []), undefined, KEYMINT), 'all')
  assert.equal(grantScope(credential(null, []), 'assets:read', OTHER_API), 'assets:read')
  assert.equal(grantScope(credential(['assets:read'], []), undefined, KEYMINT), 'assets:read')
  assert.throws(() => grantScope(credential(null, []), 'keymint:admin', KEYMINT), InvalidScope)
  assert.throws(() => grantScope(credential(['keymint:admin'], []), undefined, KEYMINT), InvalidScope)
  assert.throws(() => grantScope(credential(null, ['b']), 'assets:read', KEYMINT), InvalidScope, 'a scope list narrows an admin')
})
