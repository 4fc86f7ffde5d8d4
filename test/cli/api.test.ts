import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { cliDatabase, keymint, serve, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { createVerifier } from '../../src/verify/index.js'
import { rsaKeyPair } from '../helpers/rsa-keys.js'

describeEachDialect('keymint api (CLI)', (dialect) => {
  test('api create and list: an identifier belongs to one account; the default audience is refused', async (t) => {
    const { json, run } = await cliDatabase(t, dialect)
    const [a, b] = [await json<{ id: string }>(['account', 'create', '--name', 'a']), await json<{ id: string }>(['account', 'create', '--name', 'b'])]
    const api = await json<{ identifier: string; account_id: string }>(['api', 'create', '--account', a.id, '--identifier', 'https://api.example.com'])
    assert.deepEqual([api.identifier, api.account_id], ['https://api.example.com', a.id])
    const listed = await json<{ items: { identifier: string }[] }>(['api', 'list', '--account', a.id])
    assert.deepEqual(listed.items.map((x) => x.identifier), ['https://api.example.com'])
    for (const account of [a, b]) {
      const dup = await run(['api', 'create', '--account', account.id, '--identifier', 'https://api.example.com', '--json'])
      assert.equal(dup.code, 1)
      assert.equal(dup.stdout, '')
      assert.deepEqual(JSON.parse(dup.stderr), { error: 'KEYMINT_API_EXISTS', message: 'the API identifier https://api.example.com is already registered' })
    }
    assert.deepEqual((await json<{ items: unknown[] }>(['api', 'list', '--account', b.id])).items, [])
    for (const [identifier, env] of [['http://127.0.0.1:8080', {}], ['https://auth.example.com/', { KEYMINT_ISSUER: 'https://auth.example.com' }], ['https://tokens.example.com', { KEYMINT_AUDIENCE: 'https://tokens.example.com' }]] as const) {
      const reserved = await run(['api', 'create', '--account', b.id, '--identifier', identifier], env)
      assert.equal(reserved.code, 1, identifier)
      assert.match(reserved.stderr, /^keymint: error: [^\n]*default audience[^\n]*\n$/, identifier)
    }
  })

  test('api create --encryption-key takes a PEM or JWK public key and refuses anything else in one line', async (t) => {
    const { json, run, dir } = await cliDatabase(t, dialect)
    const account = await json<{ id: string }>(['account', 'create', '--name', 'a'])
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const rsa = rsaKeyPair()
    writeFileSync(`${dir}/ec.jwk`, JSON.stringify(ec.publicKey.export({ format: 'jwk' })))
    writeFileSync(`${dir}/rsa.pem`, rsa.publicKey.export({ format: 'pem', type: 'spki' }))
    writeFileSync(`${dir}/rsa-private.pem`, rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }))
    const created = await json<{ encryption_kid: string; encryption_alg: string }>(['api', 'create', '--account', account.id, '--identifier', 'https://ec.example.com', '--encryption-key', `${dir}/ec.jwk`])
    assert.equal(created.encryption_alg, 'ECDH-ES')
    assert.match(created.encryption_kid, /^[\w-]{43}$/)
    const oaep = await json<{ encryption_alg: string }>(['api', 'create', '--account', account.id, '--identifier', 'https://rsa.example.com', '--encryption-key', `${dir}/rsa.pem`, '--encryption-alg', 'RSA-OAEP-512'])
    assert.equal(oaep.encryption_alg, 'RSA-OAEP-512')
    const refused: [string[], RegExp][] = [
      [['--encryption-key', `${dir}/rsa-private.pem`], /private key/],
      [['--encryption-key', `${dir}/missing.pem`], /cannot read --encryption-key file/],
      [['--encryption-key', `${dir}/rsa.pem`, '--encryption-alg', 'ECDH-ES'], /ECDH-ES needs an EC/],
      [['--encryption-alg', 'RSA-OAEP-256'], /needs an encryption key/],
    ]
    for (const [args, message] of refused) {
      const res = await run(['api', 'create', '--account', account.id, '--identifier', 'https://x.example.com', ...args, '--json'])
      assert.equal(res.code, 1, args.join(' '))
      assert.equal(res.stdout, '')
      assert.match(res.stderr, /^\{[^\n]+\}\n$/, 'one JSON object on stderr')
      const failure = JSON.parse(res.stderr) as { error: string; message: string }
      assert.equal(failure.error, 'KEYMINT_INVALID_INPUT')
      assert.match(failure.message, message)
      assert.ok(!res.stderr.includes('PRIVATE'), 'nothing of the key is echoed')
    }
  })

  test("encryption-key export prints keymint's private encryption key with a warning; keymint/verify opens encrypted tokens with it", async (t) => {
    const { json, run, db, env, dir } = await cliDatabase(t, dialect)
    const account = await json<{ id: string }>(['account', 'create', '--name', 'a'])
    const none = await run(['encryption-key', 'export'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^keymint: error: there is no active encryption key yet[^\n]*\n$/)
    const bad = await run(['encryption-key', 'export', '--format', 'der'])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /--format must be one of: pem, jwk/)

    const client = await json<Created>(['client', 'create', '--account', account.id, '--name', 'c', '--level', 'subscription'])
    const server = await serve(t, ['--port', '0', '--db', db.url], { env, cwd: dir })
    const res = await fetch(`${server.url}/auth/oauth`, { method: 'POST', headers: { clientId: client.client_id, clientSecret: client.client_secret, 'content-type': 'application/x-www-form-urlencoded' }, body: 'encrypted=RSA512' })
    const jwe = await res.text()
    assert.equal(jwe.split('.').length, 5)

    const pem = await run(['encryption-key', 'export'])
    assert.equal(pem.code, 0)
    assert.match(pem.stdout, /^-----BEGIN PRIVATE KEY-----\n[^]+\n-----END PRIVATE KEY-----\n$/)
    assert.match(pem.stderr, /^keymint: warning: [^\n]*whoever holds it can read every token encrypted to it[^\n]*\n$/)
    const exported = await keymint(['encryption-key', 'export', '--format', 'jwk', '--db', db.url, '--json'], { env, cwd: dir })
    assert.equal(exported.stdout.trim().split('\n').length, 1, '--json: one object on stdout')
    assert.match(exported.stderr, /warning/)
    const { kid, format, key } = JSON.parse(exported.stdout) as { kid: string; format: string; key: Record<string, string> }
    assert.deepEqual([format, key.kty, key.kid, key.use, typeof key.d], ['jwk', 'RSA', kid, 'enc', 'string'])
    assert.equal(JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString()).kid, kid)

    for (const decryptionKey of [pem.stdout, key]) {
      const verifier = createVerifier({ issuer: server.url, audience: server.url, decryptionKey })
      t.after(() => verifier.close())
      const verified = await verifier.verify(jwe)
      assert.deepEqual([verified.encrypted, verified.claims.client_id], [true, client.client_id])
    }
    const events = await json<{ items: { action: string; target: string; actor: string }[] }>(['audit', 'list'])
    assert.equal(events.items.filter((e) => e.action === 'encryption_key.exported' && e.target === kid && e.actor === 'cli').length, 2, 'each export is audited')
  })
})
