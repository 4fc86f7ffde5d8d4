import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hasScope, requireScopes, VerifyError } from '../../src/verify/index.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer } from '../helpers/server.js'
import { headerToken, oauth2Token, verifierFor } from './support.js'

describeEachDialect('keymint/verify requireScopes', (dialect) => {
  test('unrestricted ("all") tokens grant every scope but keymint\'s own', async (t) => {
    const s = await startTestServer(t, dialect)
    const token = await verifierFor(t, s).verify(await headerToken(s, await seedClient(s.services)))
    assert.deepEqual(token.scopes, ['all'])
    requireScopes(token, 'reports:read', 'reports:write')
    requireScopes(token)
    assert.throws(() => requireScopes(token, 'reports:read', 'keymint:admin'), (err: unknown) => {
      assert.ok(err instanceof VerifyError)
      assert.equal(err.code, 'insufficient_scope')
      assert.equal(err.status, 403)
      assert.equal(err.scope, 'reports:read keymint:admin')
      assert.match(err.message, /keymint:admin/)
      assert.doesNotMatch(err.message, /reports:read/, 'names only what is missing')
      return true
    })
  })

  test('restricted clients: the granted scopes only, also when a narrower scope was requested', async (t) => {
    const s = await startTestServer(t, dialect)
    const verifier = verifierFor(t, s)
    const c = await seedClient(s.services, { clientScopes: ['reports:read', 'reports:write', 'keymint:admin'] })
    const full = await verifier.verify(await oauth2Token(s, c))
    assert.deepEqual([...full.scopes].sort(), ['keymint:admin', 'reports:read', 'reports:write'])
    requireScopes(full, 'keymint:admin', 'reports:write')
    const narrow = await verifier.verify(await oauth2Token(s, c, 'reports:read'))
    assert.deepEqual(narrow.scopes, ['reports:read'])
    requireScopes(narrow, 'reports:read')
    for (const missing of ['reports:write', 'keymint:admin', 'all']) {
      assert.throws(() => requireScopes(narrow, missing), { code: 'insufficient_scope' }, missing)
    }
  })
})

test('hasScope: exact names, no prefixes or case folding', () => {
  const token = { scopes: ['reports:read'] }
  assert.equal(hasScope(token, 'reports:read'), true)
  for (const scope of ['reports', 'REPORTS:READ', 'reports:read:all', '', 'all']) assert.equal(hasScope(token, scope), false, scope)
  assert.equal(hasScope({ scopes: ['all'] }, 'keymint:'), false)
  assert.equal(hasScope({ scopes: ['all'] }, 'Keymint:admin'), true, 'keymint scopes are lower-case by name')
  assert.equal(hasScope({ scopes: [] }, 'x'), false)
})
