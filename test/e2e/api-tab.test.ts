import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import type { Page } from 'playwright-core'
import { PASSWORD, personOf } from '../helpers/browser.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { assertAccessibleAtBothWidths, IN_BROWSER, openTab, signInThroughPage, unexpectedErrors } from './support.js'

// Second seed: "From the dashboard, click the building icon on the top left. Then click Settings
// from the left navigation. The Settings & Integrations screen appears. Click the API tab. (…)
// Click Generate new keys. The system generates a Client ID and Client Secret and shows them on
// the screen." Then its curl, with the values read off the screen.

const run = promisify(execFile)

const text = async (page: Page, testId: string) => (await page.getByTestId(testId).textContent())?.trim() ?? ''

/** The seed's curl, as the screen shows it, run by a shell. */
async function runSnippet(page: Page, id: string): Promise<string> {
  const snippet = await text(page, `snippet-${id}`)
  const { stdout } = await run('sh', ['-c', snippet.replace(/^curl /, 'curl -s ')])
  return stdout
}

const lastUsedOf = (page: Page, state: 'active' | 'grace') => page.locator(`tr[data-state="${state}"] [data-testid="last-used"]`).textContent()

test("the seed's path to the API tab, new keys, the seed's curl, a rotation with grace, cancelled, another finished, revoking", IN_BROWSER, async (t) => {
  const s: TestServer = await startTestServer(t, 'sqlite')
  const { user } = await personOf(s, { email: 'admin@acme.example' })
  const tab = await openTab(s.url)
  const { page } = tab
  t.after(() => tab.context.close())

  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await assertAccessibleAtBothWidths(page, 'sign-in', 'sign-in')
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByRole('link', { name: /^Account home/ }).click()
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click()
  await page.getByRole('heading', { name: 'Settings & Integrations' }).waitFor()
  await page.getByRole('tab', { name: 'API' }).click()
  await page.getByText('You have no API key pair yet.').waitFor()
  assert.equal(new URL(page.url()).pathname, '/settings/integrations/api')
  await assertAccessibleAtBothWidths(page, 'API tab, no key pair yet')

  // Generate new keys: shown once, with copy buttons and ready-to-run snippets.
  await page.getByRole('button', { name: 'Generate new keys' }).click()
  await page.getByRole('heading', { name: 'Your new key pair' }).waitFor()
  const clientId = await text(page, 'new-client-id')
  const clientSecret = await text(page, 'new-client-secret')
  assert.match(clientId, /^[0-9a-f-]{36}$/)
  assert.match(clientSecret, /^kmsk_/)
  await page.getByRole('button', { name: 'Copy the Client Secret' }).click()
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), clientSecret)
  await assertAccessibleAtBothWidths(page, 'API tab, new key pair', 'api-tab-new-key-pair')

  await page.getByRole('tab', { name: 'curl (OAuth 2.0)' }).click()
  const seedCurl = await text(page, 'snippet-curl-oauth2')
  assert.equal(seedCurl, `curl --data "grant_type=client_credentials&client_id=${clientId}&client_secret=${clientSecret}" ${s.url}/oauth2/token/`)
  const answer = JSON.parse(await runSnippet(page, 'curl-oauth2')) as { access_token: string; token_type: string; expires_in: number }
  assert.equal(answer.token_type, 'Bearer')
  assert.equal(answer.expires_in, 36000)
  await page.getByRole('tab', { name: 'curl (header)' }).click()
  assert.match(await text(page, 'snippet-curl-header'), new RegExp(`^curl -X POST '${s.url}/auth/oidc'`))
  assert.match(await runSnippet(page, 'curl-header'), /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, 'the header dialect answers the bare token')
  await page.getByRole('tab', { name: 'Node.js' }).click()
  assert.match(await text(page, 'snippet-node'), /from 'keymint\/client'/)
  await page.getByRole('tab', { name: 'Python' }).click()
  assert.match(await text(page, 'snippet-python'), /import requests/)

  await page.getByRole('button', { name: 'I have copied them' }).click()
  assert.equal(await page.getByTestId('new-client-secret').count(), 0, 'the secret is gone from the screen')
  await s.server.flushUsage()
  await page.getByRole('button', { name: 'Refresh' }).click()
  await page.waitForFunction(() => !document.querySelector('tr[data-state="active"] [data-testid="last-used"]')?.textContent?.startsWith('never'))

  // The pair is in use: generating new keys warns in the seed's words, and offers a grace.
  await page.getByRole('button', { name: 'Generate new keys' }).click()
  const dialog = page.getByRole('alertdialog', { name: 'Generate new keys?' })
  await dialog.getByText('your integration will stop working until you update the key pair values in the code').waitFor()
  assert.match(await dialog.getByTestId('old-pair-last-used').textContent() ?? '', /last used .*(ago|now)/)
  await dialog.getByText('After a grace period of 1 hour').click()
  assert.equal(await dialog.getByRole('radio', { name: 'After a grace period of 1 hour' }).isChecked(), true)
  await assertAccessibleAtBothWidths(page, 'rotation confirmation', 'rotate-confirmation')
  await dialog.getByRole('button', { name: 'Generate new keys' }).click()
  await page.getByRole('heading', { name: 'Your new key pair' }).waitFor()
  const newId = await text(page, 'new-client-id')
  assert.notEqual(newId, clientId)
  await page.getByRole('button', { name: 'I have copied them' }).click()
  await page.locator('tr[data-state="grace"]').waitFor()
  assert.equal(await page.locator('tr[data-state="active"]').count(), 1)
  await assertAccessibleAtBothWidths(page, 'API tab during a grace', 'api-tab-grace')

  // The old pair's last use moves when an integration still uses it.
  const before = await lastUsedOf(page, 'grace')
  s.clock.advance(3 * 60)
  const { stdout } = await run('curl', ['-s', '--data', `grant_type=client_credentials&client_id=${clientId}&client_secret=${clientSecret}`, `${s.url}/oauth2/token/`])
  assert.ok(JSON.parse(stdout).access_token, 'the old pair still works in its grace')
  await s.server.flushUsage()
  await page.getByRole('button', { name: 'Refresh' }).click()
  await page.waitForFunction((was) => document.querySelector('tr[data-state="grace"] [data-testid="last-used"]')?.textContent !== was, before)
  assert.notEqual(await lastUsedOf(page, 'grace'), before)

  // The rotation in progress, with the old pair's last use beside its buttons.
  const rotation = page.getByTestId('rotation')
  await rotation.getByRole('heading', { name: 'Rotation in progress' }).waitFor()
  assert.match(await rotation.getByTestId('rotation-old-last-used').textContent() ?? '', /^It was last used .+ \(.+\)\./)

  // Cancel: the new pair is refused, the old one works again.
  await rotation.getByRole('button', { name: 'Cancel rotation' }).click()
  const cancelDialog = page.getByRole('alertdialog', { name: 'Cancel the rotation?' })
  await cancelDialog.getByText(clientId).waitFor()
  await cancelDialog.getByRole('button', { name: 'Cancel rotation' }).click()
  await page.getByText(`Rotation cancelled: the new key pair is revoked and the old key pair ${clientId} works again, with no end.`).waitFor()
  // The notice comes at once; the panel and the table follow once the pairs are read again.
  await page.getByTestId('rotation').waitFor({ state: 'detached' })
  await page.locator('tr[data-state="grace"]').waitFor({ state: 'detached' })
  assert.equal(await page.locator('tr[data-state="active"]').count(), 1)
  const restored = await run('curl', ['-s', '--data', `grant_type=client_credentials&client_id=${clientId}&client_secret=${clientSecret}`, `${s.url}/oauth2/token/`])
  assert.ok(JSON.parse(restored.stdout).access_token, 'the old pair works again')

  // Rotate once more, then finish: one pair left, the old one refused.
  await page.getByRole('button', { name: 'Generate new keys' }).click()
  const again = page.getByRole('alertdialog', { name: 'Generate new keys?' })
  await again.getByText('After a grace period of 1 hour').click()
  await again.getByRole('button', { name: 'Generate new keys' }).click()
  await page.getByRole('button', { name: 'I have copied them' }).click()
  await page.getByTestId('rotation').getByRole('button', { name: 'Finish rotation' }).click()
  await page.getByRole('alertdialog', { name: 'Finish the rotation?' }).getByRole('button', { name: 'Finish rotation' }).click()
  await page.getByText(`Rotation finished: the old key pair ${clientId} no longer works.`).waitFor()
  await page.locator('tr[data-state="grace"]').waitFor({ state: 'detached' })
  const refused = await run('curl', ['-s', '--data', `grant_type=client_credentials&client_id=${clientId}&client_secret=${clientSecret}`, `${s.url}/oauth2/token/`])
  assert.equal(JSON.parse(refused.stdout).error, 'invalid_client')

  // Revoke: nothing left, and the screen says what to do.
  await page.getByRole('button', { name: 'Revoke key pair' }).click()
  await page.getByRole('alertdialog', { name: 'Revoke your API key pair?' }).getByRole('button', { name: 'Revoke key pair' }).click()
  await page.getByText('Your key pair is revoked.').waitFor()
  assert.deepEqual(unexpectedErrors(tab), [])

  // The seed's "click this link to the API tab": the deep link opens it, after sign-in too.
  const deep = await openTab(`${s.url}/settings/integrations/api`)
  t.after(() => deep.context.close())
  await signInThroughPage(deep.page, user.email, PASSWORD)
  await deep.page.getByRole('tab', { name: 'API', selected: true }).waitFor()
  await deep.page.getByRole('heading', { name: 'Your API key pair' }).waitFor()
  assert.deepEqual(unexpectedErrors(deep), [])
})
