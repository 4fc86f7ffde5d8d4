import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf, api, tokenOf, type ApiCall } from '../helpers/management.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

interface Pair { client_id: string; client_secret: string }

/** The status /oauth2/token answers for a pair, with client_secret_basic. */
const tokenStatus = async (s: TestServer, pair: Pair): Promise<number> => (await fetch(`${s.url}/oauth2/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(pair.client_id, pair.client_secret) },
  body: form({ grant_type: 'client_credentials' }),
})).status

/** A client of the admin's account, rotated with a grace: its first pair and the new one. */
async function rotating(s: TestServer, call: ApiCall, scopes: string[] = ['api.read']) {
  const created = await call('POST', '/clients', { name: 'billing', level: 'subscription', scopes })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  s.clock.advance(1)
  const rotated = await call('POST', `/clients/${created.body.client.id}/key-pairs`, { grace_seconds: 3600 })
  assert.equal(rotated.status, 201, JSON.stringify(rotated.body))
  return { id: created.body.client.id as string, old: created.body.key_pair as Pair, next: rotated.body.key_pair as Pair }
}

const audited = async (call: ApiCall, action: string) =>
  (await call('GET', '/audit-events?limit=50')).body.items.filter((e: { action: string }) => e.action === action)
    .map((e: { target: string; details: unknown }) => [e.target, e.details])

describeEachDialect('POST /api/v1/clients/{id}/key-pairs/finish and /cancel', (dialect) => {
  test('finish ends the grace now: the old pair is refused at once, the new one works; audited', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const c = await rotating(s, call)
    assert.deepEqual([await tokenStatus(s, c.old), await tokenStatus(s, c.next)], [200, 200], 'both work in the grace')
    const finished = await call('POST', `/clients/${c.id}/key-pairs/finish`)
    assert.deepEqual([finished.status, finished.body], [200, { kept: c.next.client_id, revoked: [c.old.client_id] }])
    assert.deepEqual([await tokenStatus(s, c.old), await tokenStatus(s, c.next)], [401, 200])
    const listed = await call('GET', `/clients/${c.id}/key-pairs`)
    assert.deepEqual(listed.body.items.map((k: { client_id: string; state: string }) => [k.client_id, k.state]), [[c.next.client_id, 'active'], [c.old.client_id, 'revoked']])
    assert.deepEqual(await audited(call, 'key_pair.rotation_finished'), [[c.id, { client_id: c.next.client_id, revoked: [c.old.client_id] }]])
  })

  test('cancel revokes the new pair at once and the old one works again, past its grace too; audited', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const c = await rotating(s, call)
    const cancelled = await call('POST', `/clients/${c.id}/key-pairs/cancel`, {})
    assert.deepEqual([cancelled.status, cancelled.body], [200, { revoked: [c.next.client_id], restored: c.old.client_id }])
    assert.deepEqual([await tokenStatus(s, c.old), await tokenStatus(s, c.next)], [200, 401])
    s.clock.advance(3601)
    assert.equal(await tokenStatus(s, c.old), 200, 'the grace end was cleared')
    const listed = await call('GET', `/clients/${c.id}/key-pairs`)
    assert.deepEqual(listed.body.items.map((k: { client_id: string; state: string; expires_at: string | null }) => [k.client_id, k.state, k.expires_at]),
      [[c.next.client_id, 'revoked', null], [c.old.client_id, 'active', null]])
    assert.deepEqual(await audited(call, 'key_pair.rotation_cancelled'), [[c.id, { revoked: [c.next.client_id], restored: c.old.client_id }]])
  })

  test('a token issued to the cancelled pair stops being accepted', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const c = await rotating(s, call)
    const accessToken = await tokenOf(s, { clientId: c.next.client_id, clientSecret: c.next.client_secret })
    assert.equal((await call('POST', `/clients/${c.id}/key-pairs/cancel`)).status, 200)
    const introspected = await fetch(`${s.url}/oauth2/introspect`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.old.client_id, c.old.client_secret) },
      body: form({ token: accessToken }),
    })
    assert.deepEqual(await introspected.json(), { active: false })
  })

  test('refuses with 409 when no rotation is in progress, and what it may not touch; writes nothing', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const plain = (await call('POST', '/clients', { name: 'plain', level: 'subscription' })).body.client.id as string
    const noGrace = (await call('POST', '/clients', { name: 'no grace', level: 'subscription' })).body.client.id as string
    assert.equal((await call('POST', `/clients/${noGrace}/key-pairs`)).status, 201)
    const ended = await rotating(s, call)
    s.clock.advance(3600)
    const finished = await rotating(s, call)
    assert.equal((await call('POST', `/clients/${finished.id}/key-pairs/finish`)).status, 200)
    const cancelled = await rotating(s, call)
    assert.equal((await call('POST', `/clients/${cancelled.id}/key-pairs/cancel`)).status, 200)
    const powerful = await rotating(s, call, ['keymint:admin'])
    const writer = (await call('POST', '/clients', { name: 'writer', level: 'subscription', scopes: ['keymint:keys:write'] })).body.key_pair as Pair
    const asWriter = api(s, await tokenOf(s, { clientId: writer.client_id, clientSecret: writer.client_secret }))
    const reader = (await call('POST', '/clients', { name: 'reader', level: 'subscription', scopes: ['keymint:clients:read'] })).body.key_pair as Pair
    const asReader = api(s, await tokenOf(s, { clientId: reader.client_id, clientSecret: reader.client_secret }))
    const stranger = await seedClient(s.services)
    const cases: { name: string; as: ApiCall; client: string; status: number; code?: string; title?: string }[] = [
      { name: 'never rotated', as: call, client: plain, status: 409, code: 'KEYMINT_NO_ROTATION_IN_PROGRESS' },
      { name: 'rotated without a grace', as: call, client: noGrace, status: 409, code: 'KEYMINT_NO_ROTATION_IN_PROGRESS' },
      { name: 'the grace ended', as: call, client: ended.id, status: 409, code: 'KEYMINT_NO_ROTATION_IN_PROGRESS' },
      { name: 'finished already', as: call, client: finished.id, status: 409, code: 'KEYMINT_NO_ROTATION_IN_PROGRESS' },
      { name: 'cancelled already', as: call, client: cancelled.id, status: 409, code: 'KEYMINT_NO_ROTATION_IN_PROGRESS' },
      { name: "another account's client", as: call, client: stranger.clientRecordId, status: 404, code: 'KEYMINT_CLIENT_NOT_FOUND' },
      { name: 'an unknown client', as: call, client: '7d444840-9dc0-41f5-8d0a-000000000000', status: 404, code: 'KEYMINT_CLIENT_NOT_FOUND' },
      { name: 'a malformed id', as: call, client: 'nope', status: 400, title: 'invalid_request' },
      { name: 'a caller without keymint:keys:write', as: asReader, client: powerful.id, status: 403, title: 'insufficient_scope' },
      { name: 'a client holding more than the caller', as: asWriter, client: powerful.id, status: 403, code: 'KEYMINT_ADMIN_REQUIRED' },
      { name: 'no token', as: api(s, undefined), client: powerful.id, status: 401, title: 'invalid_token' },
    ]
    const state = async () => JSON.stringify(await s.services.database.db.selectFrom('key_pairs').select(['id', 'expires_at', 'revoked_at']).orderBy('id').execute())
    for (const verb of ['finish', 'cancel']) {
      for (const c of cases) {
        const before = await state()
        const res = await c.as('POST', `/clients/${c.client}/key-pairs/${verb}`)
        assert.equal(res.status, c.status, `${verb}, ${c.name}: ${JSON.stringify(res.body)}`)
        if (c.code) assert.equal(res.body.code, c.code, `${verb}, ${c.name}`)
        if (c.title) assert.equal(res.body.title, c.title, `${verb}, ${c.name}`)
        assert.equal(await state(), before, `${verb}, ${c.name}: nothing written`)
      }
    }
    assert.deepEqual([await tokenStatus(s, powerful.old), await tokenStatus(s, powerful.next)], [200, 200], 'the refused calls changed nothing')
  })
})
