import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { cleanup } from '../helpers/cleanup.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf, api, tokenOf } from '../helpers/management.js'
import { seedClient, startTestServer } from '../helpers/server.js'

describeEachDialect('/api/v1/webhooks', (dialect) => {
  test('register, send a test event, see it delivered signed in the log, delete', async (t) => {
    const s = await startTestServer(t, dialect, { webhookPoll: '1h', webhooksAllowLoopback: 'true' })
    const got: { headers: IncomingHttpHeaders; body: string }[] = []
    const receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => { body += c.toString() })
      req.on('end', () => { got.push({ headers: req.headers, body }); res.writeHead(200).end() })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    cleanup(t, () => new Promise<void>((resolve) => receiver.close(() => resolve())))
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in`
    const { call, seed } = await adminOf(s)

    const created = await call('POST', '/webhooks', { url, events: ['key_pair.rotated', 'user.disabled'] })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.equal(created.headers.get('cache-control'), 'no-store')
    const { webhook, secret } = created.body as { webhook: { id: string }; secret: string }
    assert.deepEqual(created.body.webhook.events, ['key_pair.rotated', 'user.disabled'])
    const listed = await call('GET', '/webhooks')
    assert.deepEqual(listed.body.items, [created.body.webhook])
    assert.ok(!JSON.stringify(listed.body).includes(secret.slice(6)), 'the secret is never listed')

    const queued = await call('POST', `/webhooks/${webhook.id}/test`)
    assert.equal(queued.status, 202, JSON.stringify(queued.body))
    assert.equal(queued.body.state, 'pending')
    assert.equal(await s.server.deliverWebhooks(), 1)
    assert.equal(got.length, 1)
    const [r] = got
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
    const signed = createHmac('sha256', key).update(`${r?.headers['webhook-id']}.${r?.headers['webhook-timestamp']}.${r?.body}`).digest('base64')
    assert.equal(r?.headers['webhook-signature'], `v1,${signed}`)
    assert.equal(JSON.parse(r?.body ?? '').type, 'webhook.test')

    const log = await call('GET', `/webhooks/${webhook.id}/deliveries`)
    assert.deepEqual(log.body.items.map((d: { id: string; state: string; last_status: number }) => [d.id, d.state, d.last_status]), [[queued.body.id, 'delivered', 200]])

    await call('POST', `/clients/${seed.clientRecordId}/key-pairs`, { grace_seconds: 60 })
    assert.equal(await s.server.deliverWebhooks(), 1, 'a subscribed event, written with the rotation')

    assert.equal((await call('DELETE', `/webhooks/${webhook.id}`)).status, 204)
    assert.deepEqual((await call('GET', '/webhooks')).body.items, [])
    assert.equal((await call('GET', `/webhooks/${webhook.id}/deliveries`)).status, 404)
    const audited = (await call('GET', '/audit-events?limit=50')).body.items.map((e: { action: string }) => e.action)
    assert.ok(audited.includes('webhook.created') && audited.includes('webhook.deleted'))
  })

  test('refuses malformed URLs and events, plain http, and callers without keymint:admin; writes nothing', async (t) => {
    const s = await startTestServer(t, dialect, { webhookPoll: '1h' })
    const { call } = await adminOf(s)
    const writer = await seedClient(s.services, { clientScopes: ['keymint:keys:write'] })
    const narrow = api(s, await tokenOf(s, writer))
    const stranger = await adminOf(s)
    const own = (await call('POST', '/webhooks', { url: 'https://hooks.example.com/a', events: ['key_pair.revoked'] })).body.webhook.id as string
    const cases: { name: string; as?: typeof call; method?: string; path?: string; body?: unknown; status: number; title?: string; code?: string }[] = [
      { name: 'http to loopback without the setting', body: { url: 'http://127.0.0.1:9/x', events: ['key_pair.revoked'] }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'plain http', body: { url: 'http://hooks.example.com/x', events: ['key_pair.revoked'] }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'not a URL', body: { url: 'hooks', events: ['key_pair.revoked'] }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'credentials in the URL', body: { url: 'https://u:p@hooks.example.com/x', events: ['key_pair.revoked'] }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'ftp', body: { url: 'ftp://hooks.example.com/x', events: ['key_pair.revoked'] }, status: 400, code: 'KEYMINT_INVALID_INPUT' },
      { name: 'no events', body: { url: 'https://hooks.example.com/x', events: [] }, status: 400, title: 'invalid_request' },
      { name: 'an unknown event', body: { url: 'https://hooks.example.com/x', events: ['everything'] }, status: 400, title: 'invalid_request' },
      { name: 'an extra field', body: { url: 'https://hooks.example.com/x', events: ['key_pair.revoked'], secret: 'mine' }, status: 400, title: 'invalid_request' },
      { name: 'a URL too long', body: { url: `https://hooks.example.com/${'a'.repeat(2100)}`, events: ['key_pair.revoked'] }, status: 400, title: 'invalid_request' },
      { name: 'a caller without keymint:admin', as: narrow, body: { url: 'https://hooks.example.com/x', events: ['key_pair.revoked'] }, status: 403, title: 'insufficient_scope' },
      { name: "another account's endpoint: test", as: stranger.call, path: `/webhooks/${own}/test`, status: 404, code: 'KEYMINT_WEBHOOK_NOT_FOUND' },
      { name: "another account's endpoint: delete", as: stranger.call, method: 'DELETE', path: `/webhooks/${own}`, status: 404, code: 'KEYMINT_WEBHOOK_NOT_FOUND' },
      { name: 'a malformed id', method: 'DELETE', path: '/webhooks/nope', status: 400, title: 'invalid_request' },
    ]
    const rows = async () => JSON.stringify([
      await s.services.database.db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute(),
      await s.services.database.db.selectFrom('webhook_deliveries').selectAll().orderBy('id').execute(),
    ])
    for (const c of cases) {
      const before = await rows()
      const res = await (c.as ?? call)(c.method ?? 'POST', c.path ?? '/webhooks', c.body)
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.body)}`)
      if (c.code) assert.equal(res.body.code, c.code, c.name)
      if (c.title) assert.equal(res.body.title, c.title, c.name)
      assert.equal(await rows(), before, `${c.name}: nothing written`)
    }
  })
})
