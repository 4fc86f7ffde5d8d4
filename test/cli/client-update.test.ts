import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { test } from 'node:test'
import { assertJsonFailure, cliBesideServer, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { basic, form } from '../helpers/tokens.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test

const token = (url: string, pair: { client_id: string; client_secret: string }) =>
  fetch(`${url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(pair.client_id, pair.client_secret) },
    body: form({ grant_type: 'client_credentials' }),
  })

describeEachDialect('keymint CLI: client update', (dialect) => {
  test('client update changes what PATCH /clients/{id} changes, and is audited', async (t) => {
    const { s, seed, call, json, run, dir } = await cliBesideServer(t, dialect)
    const client = await json<Created>(['client', 'create', '--account', seed.accountId, '--name', 'ci', '--level', 'subscription', '--scopes', 'assets:read'])
    const updated = await json(['client', 'update', '--client', client.client_id, '--name', 'deploy', '--scopes', 'assets:read,assets:write', '--lifetime', '2h', '--encrypt', 'RSA-OAEP-256', '--alg', 'ES256'])
    assert.deepEqual(
      [updated.id, updated.name, updated.scopes, updated.lifetime_seconds, updated.token_encryption, updated.signing_alg],
      [client.id, 'deploy', ['assets:read', 'assets:write'], 7200, 'RSA-OAEP-256', 'ES256'],
    )
    assert.deepEqual(updated, (await call('GET', `/clients/${client.id}`)).body, 'what the API shows afterwards')
    const sealed = await token(s.url, client)
    assert.equal(sealed.status, 200)
    assert.equal(((await sealed.json()) as { access_token: string }).access_token.split('.').length, 5, 'the next token is encrypted')

    const cleared = await json(['client', 'update', '--client', client.id, '--lifetime', '', '--encrypt', '', '--alg', '', '--scopes', 'all'])
    assert.deepEqual([cleared.scopes, cleared.lifetime_seconds, cleared.token_encryption, cleared.signing_alg], [null, null, null, null])
    assert.deepEqual((await json(['client', 'update', '--client', client.id, '--scopes', ''])).scopes, [], "'' is no scope at all")

    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    writeFileSync(`${dir}/client.pem`, publicKey.export({ format: 'pem', type: 'spki' }))
    const keyed = await json(['client', 'update', '--client', client.id, '--public-key', `${dir}/client.pem`, '--allow-secret', 'false'])
    assert.deepEqual([keyed.public_jwk.crv, keyed.allow_secret], ['P-256', false])
    assert.equal((await token(s.url, client)).status, 401, 'its secret no longer authenticates it')

    const refused: [string[], string][] = [
      [['--public-key', ''], 'KEYMINT_INVALID_INPUT'],
      [[], 'KEYMINT_INVALID_INPUT'],
      [['--allow-secret', 'yes'], 'KEYMINT_INVALID_INPUT'],
      [['--lifetime', '5s'], 'KEYMINT_INVALID_INPUT'],
      [['--scopes', 'all,assets:read'], 'KEYMINT_INVALID_INPUT'],
      [['--encrypt', 'RSA1_5'], 'KEYMINT_INVALID_INPUT'],
      [['--public-key', `${dir}/missing.pem`], 'KEYMINT_INVALID_INPUT'],
    ]
    for (const [args, error] of refused) assertJsonFailure(await run(['client', 'update', '--client', client.id, ...args, '--json']), error, args.join(' '))
    assert.deepEqual(await json(['client', 'show', '--client', client.id]), keyed, 'refused updates changed nothing')

    const events = (await json<{ items: Json[] }>(['audit', 'list', '--account', seed.accountId])).items.filter((e) => e.action === 'client.updated')
    assert.equal(events.length, 4)
    assert.ok(events.every((e) => e.actor === 'cli' && e.target === client.id))
  })

  test('--require-dpop: create a client that gets DPoP-bound tokens only; update turns it off; a bad value writes nothing', async (t) => {
    const { s, seed, json, run } = await cliBesideServer(t, dialect)
    const client = await json<Created & { require_dpop: boolean }>(['client', 'create', '--account', seed.accountId, '--name', 'bound', '--level', 'subscription', '--require-dpop'])
    assert.equal(client.require_dpop, true)
    const without = await token(s.url, client)
    assert.equal(without.status, 400)
    assert.equal(((await without.json()) as { error: string }).error, 'invalid_dpop_proof')
    assert.match((await run(['client', 'show', '--client', client.id])).stdout, /tokens: DPoP-bound only/)

    for (const value of ['maybe', '', 'TRUE']) {
      assertJsonFailure(await run(['client', 'update', '--client', client.id, '--require-dpop', value, '--json']), 'KEYMINT_INVALID_INPUT', `--require-dpop ${JSON.stringify(value)}`)
    }
    assert.equal((await json(['client', 'show', '--client', client.id])).require_dpop, true, 'refused updates changed nothing')

    const lifted = await json(['client', 'update', '--client', client.id, '--require-dpop', 'false'])
    assert.equal(lifted.require_dpop, false)
    const bearer = await token(s.url, client)
    assert.equal(bearer.status, 200)
    assert.equal(((await bearer.json()) as { token_type: string }).token_type, 'Bearer')
    const events = (await json<{ items: Json[] }>(['audit', 'list', '--account', seed.accountId])).items
    assert.ok(events.some((e) => e.action === 'client.created' && e.target === client.id && e.details.requireDPoP === true))
    assert.ok(events.some((e) => e.action === 'client.updated' && e.target === client.id && e.details.requireDPoP === false))
  })
})
