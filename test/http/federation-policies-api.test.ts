import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { deleteClient } from '../../src/domain/client-lifecycle.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf, api, tokenOf } from '../helpers/management.js'
import { OidcIssuer } from '../helpers/oidc-issuer.js'
import { seedClient, startTestServer } from '../helpers/server.js'

const GITHUB = 'https://token.actions.githubusercontent.com'

describeEachDialect('/api/v1/federation-policies', (dialect) => {
  test('create, list, read and delete trust policies; each change is audited', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call, seed } = await adminOf(s)
    const issuer = await OidcIssuer.start(t)
    const body = {
      client: seed.clientRecordId, issuer: GITHUB, audience: 'https://keymint.example.com', subject: 'repo:acme/deploy:ref:refs/heads/main',
      claims: { workflow: 'release', repository_owner: 'acme' }, max_age_seconds: 600,
    }
    const created = await call('POST', '/federation-policies', body)
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.deepEqual(Object.keys(created.body), ['id', 'account_id', 'client', 'issuer', 'audience', 'subject', 'claims', 'jwks', 'max_age_seconds', 'created_at'])
    assert.deepEqual({ ...created.body, id: undefined, created_at: undefined }, {
      id: undefined, created_at: undefined, account_id: seed.accountId, client: seed.clientRecordId, issuer: GITHUB, audience: body.audience,
      subject: body.subject, claims: body.claims, jwks: null, max_age_seconds: 600,
    })
    s.clock.advance(1)
    const k8s = await call('POST', '/federation-policies', {
      client: seed.clientRecordId, issuer: 'https://kubernetes.default.svc.cluster.local', audience: 'keymint', subject: 'system:serviceaccount:billing:*', jwks: issuer.jwks,
    })
    assert.equal(k8s.status, 201, JSON.stringify(k8s.body))
    assert.deepEqual(k8s.body.jwks, issuer.jwks)
    assert.deepEqual(k8s.body.claims, {})

    assert.deepEqual((await call('GET', '/federation-policies')).body.items, [created.body, k8s.body])
    assert.deepEqual((await call('GET', `/federation-policies?client=${seed.clientRecordId}`)).body.items.length, 2)
    assert.deepEqual((await call('GET', `/federation-policies/${k8s.body.id}`)).body, k8s.body)

    assert.equal((await call('DELETE', `/federation-policies/${created.body.id}`)).status, 204)
    assert.deepEqual((await call('GET', '/federation-policies')).body.items, [k8s.body])
    assert.equal((await call('GET', `/federation-policies/${created.body.id}`)).status, 404)
    assert.equal((await call('DELETE', `/federation-policies/${created.body.id}`)).status, 404, 'deleted once')

    const events = (await call('GET', '/audit-events?limit=50')).body.items as { action: string; target: string; details: Record<string, unknown> }[]
    const made = events.find((e) => e.action === 'federation_policy.created' && e.target === created.body.id)
    assert.deepEqual(made?.details, { client: seed.clientRecordId, issuer: GITHUB, audience: body.audience, subject: body.subject, claims: body.claims, max_age_seconds: 600, jwks_kids: null })
    assert.deepEqual(events.find((e) => e.action === 'federation_policy.created' && e.target === k8s.body.id)?.details.jwks_kids, [issuer.currentKey.kid])
    assert.ok(events.some((e) => e.action === 'federation_policy.deleted' && e.target === created.body.id))

    // Deleting the client deletes its policies.
    const other = await call('POST', '/clients', { name: 'ci', level: 'subscription' })
    const third = await call('POST', '/federation-policies', { ...body, client: other.body.client.id })
    assert.equal(third.status, 201)
    await deleteClient(s.services, { clientId: other.body.client.id })
    assert.equal((await call('GET', `/federation-policies/${third.body.id}`)).status, 404)
  })

  test('refuses malformed policies, other accounts, and callers without keymint:admin; writes nothing', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call, seed } = await adminOf(s)
    const stranger = await seedClient(s.services)
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const ok = { client: seed.clientRecordId, issuer: GITHUB, audience: 'https://keymint.example.com', subject: 'repo:acme/deploy:*' }
    // Refused by the route's schema (`title`), or by the domain's rules (`code`).
    const cases: { name: string; body: Record<string, unknown>; status: number; code?: string; title?: string }[] = [
      { name: 'no client', body: { ...ok, client: undefined }, status: 400, title: 'invalid_request' },
      { name: 'client not a UUID', body: { ...ok, client: 'ci' }, status: 400, title: 'invalid_request' },
      { name: "another account's client", body: { ...ok, client: stranger.clientRecordId }, status: 404, code: 'KEYMINT_CLIENT_NOT_FOUND' },
      { name: 'no issuer', body: { ...ok, issuer: undefined }, status: 400, title: 'invalid_request' },
      { name: 'http issuer', body: { ...ok, issuer: 'http://issuer.example.com' }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'loopback http issuer without the setting', body: { ...ok, issuer: 'http://127.0.0.1:9999' }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'issuer with a query', body: { ...ok, issuer: `${GITHUB}?x=1` }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'issuer with credentials', body: { ...ok, issuer: 'https://user:pw@issuer.example.com' }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'not a URL', body: { ...ok, issuer: 'github' }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'empty audience', body: { ...ok, audience: '' }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'audience with spaces', body: { ...ok, audience: 'a b' }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'subject * alone', body: { ...ok, subject: '*' }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'empty subject', body: { ...ok, subject: '' }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'subject with a control character', body: { ...ok, subject: 'repo:a\nb' }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'claim of a registered name', body: { ...ok, claims: { sub: 'x' } }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'claim with an empty value', body: { ...ok, claims: { workflow: '' } }, status: 400, title: 'invalid_request' },
      { name: 'claim value not a string', body: { ...ok, claims: { run_attempt: { n: 1 } } }, status: 400, title: 'invalid_request' },
      { name: 'too many claims', body: { ...ok, claims: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`c${i}`, 'v'])) }, status: 400, title: 'invalid_request' },
      { name: 'jwks not a set', body: { ...ok, jwks: { kty: 'RSA' } }, status: 400, title: 'invalid_request' },
      { name: 'jwks with a private key', body: { ...ok, jwks: { keys: [await exportJWK(privateKey)] } }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'jwks with a symmetric key', body: { ...ok, jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'jwks with a broken key', body: { ...ok, jwks: { keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }] } }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'max age too short', body: { ...ok, max_age_seconds: 1 }, status: 400, title: 'invalid_request' },
      { name: 'max age not whole', body: { ...ok, max_age_seconds: 60.5 }, status: 400, title: 'invalid_request' },
      { name: 'unknown field', body: { ...ok, alg: 'none' }, status: 400, title: 'invalid_request' },
    ]
    for (const c of cases) {
      const res = await call('POST', '/federation-policies', JSON.parse(JSON.stringify(c.body)))
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.body)}`)
      if (c.code) assert.equal(res.body.code, c.code, c.name)
      if (c.title) assert.equal(res.body.title, c.title, c.name)
    }
    assert.deepEqual((await call('GET', '/federation-policies')).body.items, [], 'nothing written')
    assert.ok(!(await call('GET', '/audit-events?limit=50')).body.items.some((e: { action: string }) => e.action.startsWith('federation_policy.')))

    const created = await call('POST', '/federation-policies', ok)
    assert.equal(created.status, 201)
    const outsider = api(s, await tokenOf(s, await seedClient(s.services, { clientScopes: ['keymint:admin'] })))
    assert.equal((await outsider('GET', `/federation-policies/${created.body.id}`)).status, 404, "another account's policy is not found")
    assert.equal((await outsider('DELETE', `/federation-policies/${created.body.id}`)).status, 404)
    assert.deepEqual((await outsider('GET', '/federation-policies')).body.items, [])
    assert.equal((await call('GET', '/federation-policies/not-a-uuid')).status, 400)

    const narrow = api(s, await tokenOf(s, await seedClient(s.services, { clientScopes: ['keymint:clients:write', 'keymint:clients:read'] })))
    for (const [method, path] of [['GET', '/federation-policies'], ['POST', '/federation-policies'], ['DELETE', `/federation-policies/${created.body.id}`]] as const) {
      const res = await narrow(method, path, method === 'POST' ? ok : undefined)
      assert.equal(res.status, 403, `${method} ${path} without keymint:admin`)
    }
  })
})
