import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Page } from 'playwright-core'
import { PASSWORD, personOf } from '../helpers/browser.js'
import { startTestServer } from '../helpers/server.js'
import { assertAccessibleAtBothWidths, IN_BROWSER, openTab, signInThroughPage, unexpectedErrors } from './support.js'

// Who sees which controls, and what happens when the session ends or a request lacks its CSRF
// token. The API refuses what the pages leave out.


/** A call from the page's own origin, with the session cookie, as a script in it could make. */
const callFromPage = (page: Page, path: string, init: { method: string; csrf?: boolean }) => page.evaluate(async ({ path, method, csrf }) => {
  let token: string | undefined
  if (csrf) token = (await (await fetch('/api/v1/sessions/current')).json() as { csrf_token: string }).csrf_token
  const res = await fetch(path, { method, headers: { 'content-type': 'application/json', ...(token ? { 'x-csrf-token': token } : {}) }, body: '{}' })
  return { status: res.status, body: await res.json() as { code?: string } }
}, { path, ...init })

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name })

/** Tab until the focused element has this accessible name (or text). */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab')
    const focused = await page.evaluate(() => {
      const el = document.activeElement
      return el ? (el.getAttribute('aria-label') ?? el.textContent ?? '').trim() : ''
    })
    if (focused === name) return
  }
  assert.fail(`no focusable element named ${name}`)
}

async function tabToAndPress(page: Page, name: string): Promise<void> {
  await tabTo(page, name)
  await page.keyboard.press('Enter')
}

test('keyboard only: from sign-in to a copied secret, focus always visible', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const { user } = await personOf(s)
  const tab = await openTab(s.url)
  t.after(() => tab.context.close())
  const { page } = tab
  await page.getByLabel('Email').waitFor()
  // The email field has focus on arrival.
  await page.keyboard.type(user.email)
  await page.keyboard.press('Tab')
  await page.keyboard.type(PASSWORD)
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'acme' }).waitFor()
  await tabToAndPress(page, 'Settings')
  await page.getByRole('heading', { name: 'Settings & Integrations' }).waitFor()
  // Into the tab list (on its selected tab), then the arrow key to the API tab.
  await tabTo(page, 'General')
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Your API key pair' }).waitFor()
  await tabToAndPress(page, 'Generate new keys')
  await page.getByRole('heading', { name: 'Your new key pair' }).waitFor()
  const secret = (await page.getByTestId('new-client-secret').textContent())?.trim()
  await tabToAndPress(page, 'Copy the Client Secret')
  // The focused control shows a focus ring.
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle)
  assert.notEqual(outline, 'none')
  await page.getByText('Copied', { exact: true }).waitFor()
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret)
  assert.deepEqual(unexpectedErrors(tab), [])
})

test('a member sees no key controls and is told why; the API refuses them too', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const { accountId } = await personOf(s)
  const { user } = await personOf(s, { accountId, role: 'member' })
  const tab = await openTab(`${s.url}/settings/integrations/api`)
  t.after(() => tab.context.close())
  const { page } = tab
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByText('Only admins of the account have an API key pair').waitFor()
  assert.equal(await page.getByRole('button', { name: 'Generate new keys' }).count(), 0)
  await assertAccessibleAtBothWidths(page, 'API tab as a member', 'api-tab-member')
  const refused = await callFromPage(page, '/api/v1/me/key-pair', { method: 'POST', csrf: true })
  assert.deepEqual([refused.status, refused.body.code], [403, 'KEYMINT_ADMINS_ONLY'])

  await nav(page, 'Clients & key pairs').click()
  await page.getByText('only admins create, rotate or revoke them').waitFor()
  assert.equal(await page.getByRole('button', { name: 'Create client' }).count(), 0)
  const create = await callFromPage(page, '/api/v1/clients', { method: 'POST', csrf: true })
  assert.equal(create.status, 403)
  await nav(page, 'Users').click()
  await page.getByText('only admins create or change them').waitFor()
  assert.equal(await page.getByRole('button', { name: 'Create user' }).count(), 0)
  await nav(page, 'Audit log').click()
  await page.getByText('Only admins read the audit log').waitFor()
  assert.equal((await callFromPage(page, '/api/v1/audit-events', { method: 'GET' }).catch(() => ({ status: 0 }))).status !== 200, true)
  assert.deepEqual(unexpectedErrors(tab), [])
})

test('a standard account is told key pairs are an enterprise feature; the API refuses', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const { user } = await personOf(s, { plan: 'standard' })
  const tab = await openTab(`${s.url}/settings/integrations/api`)
  t.after(() => tab.context.close())
  const { page } = tab
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByText('API key pairs are an enterprise feature: this account is on the standard plan').waitFor()
  assert.equal(await page.getByRole('button', { name: 'Generate new keys' }).count(), 0)
  await assertAccessibleAtBothWidths(page, 'API tab on the standard plan', 'api-tab-standard')
  const refused = await callFromPage(page, '/api/v1/me/key-pair', { method: 'POST', csrf: true })
  assert.deepEqual([refused.status, refused.body.code], [403, 'KEYMINT_PLAN_FORBIDS_KEY_PAIRS'])
  await nav(page, 'Clients & key pairs').click()
  await page.getByText('Clients and key pairs are an enterprise feature').waitFor()
  assert.deepEqual(unexpectedErrors(tab), [])
})

test('an ended session sends the page back to sign-in with a message; a request without CSRF token is refused', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const { user } = await personOf(s)
  const tab = await openTab(s.url)
  t.after(() => tab.context.close())
  const { page } = tab
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByRole('heading', { name: 'acme' }).waitFor()

  const csrfLess = await callFromPage(page, '/api/v1/me/key-pair', { method: 'POST', csrf: false })
  assert.deepEqual([csrfLess.status, csrfLess.body.code], [403, 'KEYMINT_CSRF_CHECK_FAILED'])
  const own = await callFromPage(page, '/api/v1/me/key-pair', { method: 'GET' }).catch(() => undefined)
  assert.ok(own === undefined || own.status === 200, 'nothing was generated')

  // 30 minutes unused end a session (KEYMINT_SESSION_IDLE).
  s.clock.advance(31 * 60)
  await nav(page, 'Users').click()
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await page.getByText('Your session has ended. Sign in again to go on.').waitFor()
  await assertAccessibleAtBothWidths(page, 'sign-in after the session ended', 'session-ended')
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByRole('heading', { name: 'Users' }).waitFor()
  assert.deepEqual(unexpectedErrors(tab), [])
})
