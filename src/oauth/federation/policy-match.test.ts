import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FederationPolicy, FederationPolicyId, AccountId, ClientId } from '../../domain/types.js'
import { claimText, policyMismatch, subjectMatches } from './policy-match.js'

test('subject globs: * matches any run of characters, everything else itself', () => {
  const cases: [string, string, boolean][] = [
    ['repo:acme/api:ref:refs/heads/main', 'repo:acme/api:ref:refs/heads/main', true],
    ['repo:acme/api:ref:refs/heads/main', 'repo:acme/api:ref:refs/heads/mainx', false],
    ['repo:acme/api:*', 'repo:acme/api:ref:refs/heads/main', true],
    ['repo:acme/api:*', 'repo:acme/api:', true],
    ['repo:acme/api:*', 'repo:acme/api', false],
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/web:ref:refs/heads/main', true],
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/web:ref:refs/heads/dev', false],
    ['repo:acme/*:ref:refs/heads/main', 'repo:evil/x:ref:refs/heads/main', false],
    ['*:ref:refs/heads/main', 'repo:acme/api:ref:refs/heads/main', true],
    ['system:serviceaccount:*:sync', 'system:serviceaccount:billing:sync', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['a.b', 'aXb', false],
    ['repo:acme/(api)', 'repo:acme/(api)', true],
  ]
  for (const [pattern, subject, expected] of cases) assert.equal(subjectMatches(pattern, subject), expected, `${pattern} ~ ${subject}`)
})

test('claims: top-level names first, then / paths into nested objects; strings, numbers and booleans as text', () => {
  const payload = { workflow: 'release', run_attempt: 2, ref_protected: true, 'kubernetes.io': { namespace: 'billing', serviceaccount: { name: 'sync' } }, 'a/b': 'flat', a: { b: 'nested' }, list: ['x'] }
  assert.equal(claimText(payload, 'workflow'), 'release')
  assert.equal(claimText(payload, 'run_attempt'), '2')
  assert.equal(claimText(payload, 'ref_protected'), 'true')
  assert.equal(claimText(payload, 'kubernetes.io/namespace'), 'billing')
  assert.equal(claimText(payload, 'kubernetes.io/serviceaccount/name'), 'sync')
  assert.equal(claimText(payload, 'a/b'), 'flat', 'a top-level claim of that name wins')
  assert.equal(claimText(payload, 'kubernetes.io'), undefined, 'an object is no text')
  assert.equal(claimText(payload, 'list'), undefined)
  assert.equal(claimText(payload, 'missing'), undefined)
  assert.equal(claimText(payload, '__proto__/x'), undefined)
  assert.equal(claimText(payload, 'constructor'), undefined)
})

test('policy checks in order: audience, subject, claims, age', () => {
  const policy: FederationPolicy = {
    id: 'p' as FederationPolicyId, accountId: 'a' as AccountId, clientId: 'c' as ClientId, issuer: 'https://issuer.example', audience: 'keymint',
    subject: 'repo:acme/*', claims: { workflow: 'release' }, jwks: null, maxAgeSeconds: 600, createdAt: new Date(0), deletedAt: null,
  }
  const now = 10_000
  const good = { aud: ['other', 'keymint'], sub: 'repo:acme/api', workflow: 'release', iat: now - 60 }
  assert.equal(policyMismatch(policy, good, now, 30), undefined)
  assert.equal(policyMismatch(policy, { ...good, aud: 'other' }, now, 30)?.reason, 'federation_audience_mismatch')
  assert.equal(policyMismatch(policy, { ...good, aud: 'other', sub: 'x' }, now, 30)?.reason, 'federation_audience_mismatch')
  assert.equal(policyMismatch(policy, { ...good, sub: 'repo:evil/api' }, now, 30)?.reason, 'federation_subject_mismatch')
  assert.deepEqual(policyMismatch(policy, { ...good, workflow: 'nightly' }, now, 30), { reason: 'federation_claim_mismatch', stage: 3, check: 'claim:workflow' })
  assert.equal(policyMismatch(policy, { ...good, iat: now - 629 }, now, 30), undefined, 'within the tolerance')
  assert.equal(policyMismatch(policy, { ...good, iat: now - 631 }, now, 30)?.reason, 'federation_token_too_old')
})
