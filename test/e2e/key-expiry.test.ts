import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient } from '../../src/domain/clients.js'
import { PASSWORD, personOf } from '../helpers/browser.js'
import { tokenOf } from '../helpers/management.js'
import { startTestServer } from '../helpers/server.js'
import { assertAccessibleAtBothWidths, IN_BROWSER, openTab, signInThroughPage, unexpectedErrors } from './support.js'

// Key pairs that expire (issue 15, item 1), on the dashboard: the account's settings, the banner
// of pairs expiring soon, `expires_at` in the key pair tables, an expired pair.

const DAY = 86400

test('the account sets key pair expiry; pairs expiring soon show in a banner and in their table; an expired one says so', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite', { keyExpiryCheck: '1h' })
  const { user, accountId } = await personOf(s, { email: 'admin@acme.example' })
  const deps = { store: s.services.store, clock: s.clock, secrets: s.services.secrets }
  const tab = await openTab(`${s.url}/settings/integrations`)
  const { page } = tab
  t.after(() => tab.context.close())
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByRole('tab', { name: 'General', selected: true }).waitFor()
  assert.equal(await page.getByTestId('expiring-banner').count(), 0, 'no banner while nothing expires')

  // Settings: a malformed value is refused next to its field; a default longer than the maximum too.
  const defaultField = page.getByLabel('New key pairs expire after (days)')
  const maxField = page.getByLabel('No key pair lives longer than (days)')
  await defaultField.fill('ninety')
  await page.getByRole('button', { name: 'Save key pair expiry' }).click()
  await page.getByText('Enter a whole number of days (1 to 3650), or leave it empty for none.').waitFor()
  await defaultField.fill('120')
  await maxField.fill('90')
  await page.getByRole('button', { name: 'Save key pair expiry' }).click()
  await page.getByText('The default cannot be longer than the maximum.').waitFor()
  const account = await s.services.store.accounts.findById(accountId as never)
  assert.deepEqual([account?.defaultKeyExpiresIn, account?.maxKeyExpiresIn], [null, null], 'nothing saved')
  await defaultField.fill('30')
  await page.getByRole('button', { name: 'Save key pair expiry' }).click()
  await page.getByText('Saved. New key pairs expire after 30 days unless asked otherwise.').waitFor()
  const saved = await s.services.store.accounts.findById(accountId as never)
  assert.deepEqual([saved?.defaultKeyExpiresIn, saved?.maxKeyExpiresIn], [30 * DAY, 90 * DAY])
  await assertAccessibleAtBothWidths(page, 'settings, key pair expiry', 'settings-key-expiry')

  // Two clients whose pairs expire within 30 days, one that does not: the banner lists the two, soonest first.
  const soon = await createClient(deps, { accountId, name: 'billing-sync', level: 'subscription', keyExpiresIn: 5 * DAY })
  await createClient(deps, { accountId, name: 'nightly-export', level: 'subscription', keyExpiresIn: 20 * DAY })
  await createClient(deps, { accountId, name: 'reporting', level: 'subscription', keyExpiresIn: 90 * DAY })
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Clients & key pairs' }).click()
  const banner = page.getByTestId('expiring-banner')
  await banner.waitFor()
  assert.match(await banner.textContent() ?? '', /^2 key pairs expire soon/)
  assert.deepEqual(await banner.getByRole('link').allTextContents(), ['billing-sync', 'nightly-export'])
  // The browser's clock runs a little ahead of the server's, which stands still: "in 4 days" is as right.
  assert.match(await banner.getByRole('listitem').first().textContent() ?? '', new RegExp(`billing-sync: key pair ${soon.keyPair.id} expires in [45] days`))
  await assertAccessibleAtBothWidths(page, 'clients, with pairs expiring soon', 'expiring-banner')

  // The banner's link leads to the client, whose table says when its pair expires.
  await banner.getByRole('link', { name: 'billing-sync' }).click()
  await page.getByRole('heading', { name: 'billing-sync' }).waitFor()
  assert.match(await page.locator('tr[data-state="active"] [data-testid="expires"]').textContent() ?? '', /^in [45] days \(/)

  // Past its expiry (and the session's end: signed in again), shown as expired, gone from the banner.
  s.clock.advance(5 * DAY)
  await page.reload()
  await signInThroughPage(page, user.email, PASSWORD)
  await page.locator('tr[data-state="expired"]').waitFor()
  assert.equal(await page.getByRole('button', { name: 'Revoke all key pairs' }).count(), 0, 'nothing left to revoke')
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click()
  await page.getByRole('heading', { name: 'Users' }).waitFor()
  await page.waitForFunction(() => /^A key pair expires soon/.test(document.querySelector('[data-testid="expiring-banner"]')?.textContent ?? ''))
  assert.deepEqual(await banner.getByRole('link').allTextContents(), ['nightly-export'])
  assert.deepEqual(unexpectedErrors(tab), [])
})

test('the API tab: new keys with a lifetime of their own, within the account maximum; an expired pair says what to do', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite', { keyExpiryCheck: '1h' })
  const { user, accountId } = await personOf(s, { email: 'admin@acme.example' })
  await s.services.store.accounts.update(accountId as never, { maxKeyExpiresIn: 90 * DAY })
  const tab = await openTab(`${s.url}/settings/integrations/api`)
  const { page } = tab
  t.after(() => tab.context.close())
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByText('You have no API key pair yet.').waitFor()
  await page.getByRole('button', { name: 'Generate new keys' }).click()
  const clientId = (await page.getByTestId('new-client-id').textContent())?.trim() ?? ''
  const clientSecret = (await page.getByTestId('new-client-secret').textContent())?.trim() ?? ''
  await page.getByRole('button', { name: 'I have copied them' }).click()
  // In use: generating again asks first, and there the new pair's lifetime is chosen.
  await tokenOf(s, { clientId, clientSecret })
  await s.server.flushUsage()
  await page.getByRole('button', { name: 'Refresh' }).click()
  await page.waitForFunction(() => !document.querySelector('tr[data-state="active"] [data-testid="last-used"]')?.textContent?.startsWith('never'))
  assert.match(await page.locator('tr[data-state="active"] [data-testid="expires"]').textContent() ?? '', /^in (89|90) days \(/, 'the account maximum, with no default')

  await page.getByRole('button', { name: 'Generate new keys' }).click()
  const dialog = page.getByRole('alertdialog', { name: 'Generate new keys?' })
  assert.equal(await dialog.getByRole('radio', { name: /After 365 days/ }).isDisabled(), true, 'longer than the account allows')
  await dialog.getByText('After 30 days').click()
  await dialog.getByRole('button', { name: 'Generate new keys' }).click()
  await page.getByRole('button', { name: 'I have copied them' }).click()
  await page.waitForFunction(() => /^in (29|30) days \(/.test(document.querySelector('tr[data-state="active"] [data-testid="expires"]')?.textContent ?? ''))

  s.clock.advance(31 * DAY)
  await page.reload()
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByText('Your key pair has expired: keymint refuses it.').waitFor()
  await page.locator('tr[data-state="expired"]').waitFor()
  await assertAccessibleAtBothWidths(page, 'API tab, key pair expired', 'api-tab-expired')
  assert.deepEqual(unexpectedErrors(tab), [])
})
