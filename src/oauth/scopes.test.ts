import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ClientCredential } from '../domain/types.js'
import { InvalidScope } from './errors.js'
import { grantScope } from './scopes.js'

const credential = (clientScopes: string[] | null, userScopes?: string[]): ClientCredential => ({
  keyPair: { id: 'k' as never, secretHash: Buffer.alloc(32), expiresAt: null, revokedAt: null },
  client: {
    id: 'c' as never, accountId: 'a' as never, name: 'n', level: userScopes ? 'user' : 'subscription', userId: null,
    scopes: clientScopes, lifetimeSeconds: null, tokenEncryption: null, publicJwk: null, signingAlg: null, createdAt: new Date(),
  },
  accountPlan: 'enterprise',
  user: userScopes ? { id: 'u' as never, permissions: ['ui', 'api'], scopes: userScopes, disabled: false } : null,
})

test('an unrestricted client reports "all" and may narrow to any API scope', () => {
  assert.equal(grantScope(credential(null), undefined), 'all')
  assert.equal(grantScope(credential(null), 'all'), 'all')
  assert.equal(grantScope(credential(null), 'assets:read'), 'assets:read')
})

test("unrestricted access never implies keymint's own scopes", () => {
  assert.throws(() => grantScope(credential(null), 'keymint:admin'), InvalidScope)
  assert.throws(() => grantScope(credential(null), 'all keymint:keys:write'), InvalidScope)
  assert.equal(grantScope(credential(['keymint:admin']), 'keymint:admin'), 'keymint:admin')
})

test('a user-level client gets at most the intersection of its and its user\'s scopes', () => {
  assert.equal(grantScope(credential(['a', 'b'], ['b', 'c']), undefined), 'b')
  assert.equal(grantScope(credential(null, ['b', 'c']), undefined), 'b c')
  assert.throws(() => grantScope(credential(['a', 'b'], ['b', 'c']), 'a'), InvalidScope)
  assert.throws(() => grantScope(credential(null, ['b']), 'all'), InvalidScope)
})
