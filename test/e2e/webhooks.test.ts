import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { PASSWORD, personOf } from '../helpers/browser.js'
import { cleanup } from '../helpers/cleanup.js'
import { startTestServer } from '../helpers/server.js'
import { assertAccessibleAtBothWidths, IN_BROWSER, openTab, signInThroughPage, unexpectedErrors } from './support.js'

// Settings & Integrations → Webhooks, against a real receiver on loopback: an admin adds an
// endpoint, copies its secret once, sends a test event the receiver can verify with that secret,
// reads the delivery log, and deletes the endpoint. A member is told why there is nothing to see.


test('an admin adds a webhook endpoint, tests it, reads its deliveries and deletes it', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite', { webhookPoll: '1h', webhooksAllowLoopback: 'true' })
  const got: { headers: IncomingHttpHeaders; body: string }[] = []
  const receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => { got.push({ headers: req.headers, body }); res.writeHead(204).end() })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  cleanup(t, () => new Promise<void>((resolve) => receiver.close(() => resolve())))
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/keymint`

  const { user, accountId } = await personOf(s, { email: 'admin@acme.example' })
  const member = await personOf(s, { accountId, role: 'member', email: 'dev@acme.example' })
  const tab = await openTab(`${s.url}/settings/integrations/webhooks`)
  t.after(() => tab.context.close())
  const { page } = tab
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByText('No webhook endpoints yet.').waitFor()
  await assertAccessibleAtBothWidths(page, 'webhooks, empty')

  // A malformed URL is refused next to the field, and nothing is registered.
  await page.getByRole('button', { name: 'Add endpoint' }).click()
  const form = page.getByRole('dialog', { name: 'Add a webhook endpoint' })
  await form.getByLabel('Endpoint URL').fill('http://hooks.example.com/plain')
  await form.getByRole('button', { name: 'Add endpoint' }).click()
  await form.getByText(/https/).first().waitFor()
  await assertAccessibleAtBothWidths(page, 'add webhook form with an error', 'webhook-form')
  await form.getByLabel('Endpoint URL').fill(url)
  await form.getByText('user.disabled').click()
  await form.getByRole('button', { name: 'Add endpoint' }).click()

  // The secret, once.
  const secret = (await page.getByTestId('new-webhook-secret').textContent())?.trim() ?? ''
  assert.match(secret, /^whsec_[A-Za-z0-9+/=]{20,}$/)
  await page.getByRole('row', { name: new RegExp(url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')) }).waitFor()
  assert.match(await page.getByRole('row', { name: /keymint/ }).textContent() ?? '', /key_pair\.rotated, key_pair\.revoked, user\.disabled/)
  await page.getByRole('button', { name: 'I have copied it' }).click()
  assert.equal(await page.getByTestId('new-webhook-secret').count(), 0, 'gone once dismissed')

  // A test event, verified by the receiver with the secret from the page.
  await page.getByRole('button', { name: `Send test event to ${url}` }).click()
  await page.getByText(`A test event is on its way to ${url}.`).waitFor()
  assert.equal(await s.server.deliverWebhooks(), 1)
  assert.equal(got.length, 1)
  const [delivery] = got
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  const expected = createHmac('sha256', key).update(`${delivery?.headers['webhook-id']}.${delivery?.headers['webhook-timestamp']}.${delivery?.body}`).digest('base64')
  assert.equal(delivery?.headers['webhook-signature'], `v1,${expected}`)
  assert.equal(JSON.parse(delivery?.body ?? '{}').type, 'webhook.test')

  const log = page.getByRole('region', { name: `Deliveries to ${url}` })
  await page.getByRole('button', { name: 'Refresh' }).click()
  await log.getByText('delivered').waitFor()
  assert.match(await log.getByRole('row', { name: /webhook\.test/ }).textContent() ?? '', /HTTP 204/)
  await assertAccessibleAtBothWidths(page, 'webhooks with a delivery', 'webhooks')

  await page.getByRole('button', { name: `Delete ${url}` }).click()
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click()
  await page.getByText(`${url} no longer receives events.`).waitFor()
  await page.getByText('No webhook endpoints yet.').waitFor()
  const listed = await s.services.store.webhooks.listEndpoints(accountId as never)
  assert.deepEqual(listed, [], 'deleted on the server too')
  assert.deepEqual(unexpectedErrors(tab), [])

  // A member sees why there is nothing here, and the page asks the API for nothing it would refuse.
  const memberTab = await openTab(`${s.url}/settings/integrations/webhooks`)
  t.after(() => memberTab.context.close())
  await signInThroughPage(memberTab.page, member.user.email, PASSWORD)
  await memberTab.page.getByText('Only admins see and register webhook endpoints.').waitFor()
  await assertAccessibleAtBothWidths(memberTab.page, 'webhooks, member')
  assert.deepEqual(unexpectedErrors(memberTab), [])
})
