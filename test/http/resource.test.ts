import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Conflict, InvalidInput } from '../../src/domain/errors.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { registerApi, seedClient, startTestServer } from '../helpers/server.js'
import { form, verifyAccessToken } from '../helpers/tokens.js'

describeEachDialect('resource indicators (RFC 8707) and audiences', (dialect) => {
  test('resource or audience selects a registered API as aud; anything else is invalid_target', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const stranger = await seedClient(s.services)
    await registerApi(s, c.accountId, 'https://assets.example.com')
    await registerApi(s, stranger.accountId, 'https://theirs.example.com')
    const post = (fields: Record<string, string>) => fetch(`${s.url}/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, ...fields }),
    })
    for (const field of ['resource', 'audience']) {
      const res = await post({ [field]: 'https://assets.example.com' })
      assert.equal(res.status, 200, field)
      const { payload } = await verifyAccessToken(s.url, (await res.json() as { access_token: string }).access_token, 'https://assets.example.com')
      assert.equal(payload.aud, 'https://assets.example.com')
    }
    const header = await fetch(`${s.url}/auth/oauth`, {
      method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ resource: 'https://assets.example.com' }),
    })
    await verifyAccessToken(s.url, await header.text(), 'https://assets.example.com')

    const refused: [Record<string, string>, number, string][] = [
      [{ resource: 'https://unknown.example.com' }, 400, 'invalid_target'],
      [{ resource: 'https://theirs.example.com' }, 400, 'invalid_target'],
      [{ resource: 'not a uri' }, 400, 'invalid_target'],
      [{ resource: 'https://assets.example.com#frag' }, 400, 'invalid_target'],
      [{ resource: 'https://assets.example.com', audience: 'https://other.example.com' }, 400, 'invalid_request'],
    ]
    for (const [fields, status, error] of refused) {
      const res = await post(fields)
      assert.equal(res.status, status, JSON.stringify(fields))
      assert.equal((await res.json() as { error: string }).error, error)
    }
  })

  test('API identifiers are absolute URIs, unique per account', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    await registerApi(s, c.accountId, 'https://a.example.com')
    await assert.rejects(registerApi(s, c.accountId, 'https://a.example.com'), Conflict)
    for (const identifier of ['a.example.com', 'https://a.example.com/\nx', 'https://a.example.com/ x']) {
      await assert.rejects(registerApi(s, c.accountId, identifier), InvalidInput, JSON.stringify(identifier))
    }
  })

  test("keymint's default audiences (the issuer, KEYMINT_AUDIENCE) cannot be registered as an API", async (t) => {
    const s = await startTestServer(t, dialect, { audience: 'https://tokens.example.com' })
    const c = await seedClient(s.services)
    for (const identifier of [s.url, `${s.url}/`, 'https://tokens.example.com', 'https://TOKENS.example.com/']) {
      await assert.rejects(registerApi(s, c.accountId, identifier), { code: 'KEYMINT_API_IDENTIFIER_RESERVED' }, identifier)
    }
  })

  test("an API identifier belongs to one account: another account can neither register it nor get tokens for it", async (t) => {
    const s = await startTestServer(t, dialect)
    const a = await seedClient(s.services)
    const b = await seedClient(s.services)
    await registerApi(s, a.accountId, 'https://api.example.com')
    await assert.rejects(registerApi(s, b.accountId, 'https://api.example.com'), (err: unknown) => {
      assert.ok(err instanceof Conflict)
      assert.equal(err.code, 'KEYMINT_API_EXISTS')
      return true
    })
    assert.deepEqual(await s.services.store.apis.listByAccount(b.accountId as never), [])
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'client_credentials', client_id: b.clientId, client_secret: b.clientSecret, resource: 'https://api.example.com' }),
    })
    assert.equal(res.status, 400)
    assert.equal((await res.json() as { error: string }).error, 'invalid_target')
  })
})
