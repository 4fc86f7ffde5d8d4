import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { assertJsonFailure, cliBesideServer, keymint } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { OidcIssuer } from '../helpers/oidc-issuer.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test

const GITHUB = 'https://token.actions.githubusercontent.com'

describeEachDialect('keymint federation', (dialect) => {
  test('create (DESIGN §8), list and delete; --json is what the API shows; the trust works at /oauth2/token', async (t) => {
    const { s, seed, call, dir, json, run } = await cliBesideServer(t, dialect)
    const created = await json(['federation', 'create', '--account', seed.accountId, '--client', seed.clientRecordId, '--issuer', GITHUB,
      '--audience', 'https://keymint.example.com', '--subject', 'repo:acme/deploy:ref:refs/heads/*', '--claim', 'workflow=release', '--claim', 'ref_type=branch', '--max-age', '10m'])
    assert.equal(created.client, seed.clientRecordId)
    assert.deepEqual(created.claims, { workflow: 'release', ref_type: 'branch' })
    assert.equal(created.max_age_seconds, 600)
    assert.equal(created.jwks, null)

    // A cluster keymint cannot reach: its keys in a file (--jwks), a value with `=` in it.
    const issuer = await OidcIssuer.start(t, { now: () => s.clock.now() })
    const jwksFile = join(dir, 'cluster-jwks.json')
    writeFileSync(jwksFile, JSON.stringify(issuer.jwks))
    const k8s = await json(['federation', 'create', '--account', seed.accountId, '--client', seed.clientRecordId, '--issuer', 'https://kubernetes.default.svc.cluster.local',
      '--audience', 'keymint', '--subject', 'system:serviceaccount:billing:sync', '--claim', 'kubernetes.io/namespace=billing', '--claim', 'note=a=b', '--jwks', jwksFile])
    assert.deepEqual(k8s.jwks, issuer.jwks)
    assert.deepEqual(k8s.claims, { 'kubernetes.io/namespace': 'billing', note: 'a=b' })

    const listed = await json<{ items: Json[] }>(['federation', 'list', '--account', seed.accountId])
    assert.deepEqual(listed, (await call('GET', '/federation-policies')).body)
    assert.deepEqual(listed.items.map((p) => p.id).sort(), [created.id, k8s.id].sort())
    const human = await run(['federation', 'list', '--account', seed.accountId])
    assert.equal(human.code, 0)
    assert.match(human.stdout, new RegExp(`${created.id}[\\s\\S]*subject repo:acme/deploy:ref:refs/heads/\\*[\\s\\S]*keys from discovery`))
    assert.match(human.stdout, /keys given \(1\)/)

    const deleted = await json(['federation', 'delete', '--account', seed.accountId, '--policy', created.id])
    assert.equal(deleted.id, created.id)
    assert.ok(typeof deleted.deleted_at === 'string')
    assert.deepEqual((await json<{ items: Json[] }>(['federation', 'list', '--account', seed.accountId])).items.map((p) => p.id), [k8s.id])
    const events = (await call('GET', '/audit-events?limit=50')).body.items as { action: string; actor: string; target: string }[]
    assert.ok(events.some((e) => e.action === 'federation_policy.created' && e.actor === 'cli' && e.target === k8s.id))
    assert.ok(events.some((e) => e.action === 'federation_policy.deleted' && e.actor === 'cli' && e.target === created.id))
  })

  test('malformed flags are refused clearly, and nothing is written', async (t) => {
    const { s, seed, dir, json, run } = await cliBesideServer(t, dialect)
    const base = ['federation', 'create', '--account', seed.accountId, '--client', seed.clientRecordId, '--issuer', GITHUB, '--audience', 'keymint', '--subject', 'repo:acme/*']
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const privateFile = join(dir, 'private.json')
    writeFileSync(privateFile, JSON.stringify({ keys: [await exportJWK(privateKey)] }))
    const notJson = join(dir, 'not.json')
    writeFileSync(notJson, 'keys: []')
    const cases: { name: string; args: string[]; error: string }[] = [
      { name: '--claim without =', args: [...base, '--claim', 'workflow'], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--claim without a value', args: [...base, '--claim', 'workflow='], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--claim without a name', args: [...base, '--claim', '=release'], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--claim twice for one name', args: [...base, '--claim', 'a=1', '--claim', 'a=2'], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--claim of a registered claim', args: [...base, '--claim', 'aud=x'], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--max-age not a duration', args: [...base, '--max-age', 'soon'], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--max-age too long', args: [...base, '--max-age', '90d'], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--jwks missing file', args: [...base, '--jwks', join(dir, 'missing.json')], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--jwks not JSON', args: [...base, '--jwks', notJson], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--jwks with a private key', args: [...base, '--jwks', privateFile], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--issuer over http', args: [...base.slice(0, 6), '--issuer', 'http://issuer.example.com', ...base.slice(8)], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--issuer on loopback without the setting', args: [...base.slice(0, 6), '--issuer', 'http://127.0.0.1:8081', ...base.slice(8)], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--subject * alone', args: [...base.slice(0, -1), '*'], error: 'KEYMINT_INVALID_INPUT' },
      { name: '--client of no such client', args: [...base.slice(0, 4), '--client', '3f0c2a9e-5b7d-4c1e-9a2f-6d8e0b1c4a7f', ...base.slice(6)], error: 'KEYMINT_CLIENT_NOT_FOUND' },
      { name: '--client not a UUID', args: [...base.slice(0, 4), '--client', 'ci', ...base.slice(6)], error: 'KEYMINT_INVALID_INPUT' },
      { name: 'no --subject', args: base.slice(0, -2), error: 'invalid_usage' },
      { name: 'delete: a malformed --policy', args: ['federation', 'delete', '--account', seed.accountId, '--policy', 'x'], error: 'KEYMINT_INVALID_INPUT' },
      { name: 'delete: no such policy', args: ['federation', 'delete', '--account', seed.accountId, '--policy', '3f0c2a9e-5b7d-4c1e-9a2f-6d8e0b1c4a7f'], error: 'KEYMINT_FEDERATION_POLICY_NOT_FOUND' },
      { name: 'list: no such account', args: ['federation', 'list', '--account', '3f0c2a9e-5b7d-4c1e-9a2f-6d8e0b1c4a7f'], error: 'KEYMINT_ACCOUNT_NOT_FOUND' },
    ]
    for (const c of cases) {
      const res = await run([...c.args, '--json'])
      const failure = assertJsonFailure(res, c.error, c.name)
      assert.ok(!failure.message.includes('BEGIN'), c.name)
    }
    assert.deepEqual((await json<{ items: Json[] }>(['federation', 'list', '--account', seed.accountId])).items, [], 'nothing written')

    // Loopback issuers are for development, with the setting.
    const loopback = await keymint([...base.slice(0, 6), '--issuer', 'http://127.0.0.1:8081', ...base.slice(8), '--db', s.config.database.url, '--json'], {
      env: { KEYMINT_MASTER_KEY: s.config.masterKey.value, KEYMINT_FEDERATION_ALLOW_LOOPBACK: 'true' }, cwd: dir,
    })
    assert.equal(loopback.code, 0, loopback.stderr)
    assert.equal(JSON.parse(loopback.stdout).issuer, 'http://127.0.0.1:8081')
  })
})
