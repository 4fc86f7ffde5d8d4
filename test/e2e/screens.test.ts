import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Page } from 'playwright-core'
import { totpCode } from '../../src/crypto/totp.js'
import { setUserPassword } from '../../src/domain/passwords.js'
import type { AccountId } from '../../src/domain/types.js'
import { PASSWORD, personOf } from '../helpers/browser.js'
import { startTestServer } from '../helpers/server.js'
import { assertAccessibleAtBothWidths, IN_BROWSER, openTab, signInThroughPage, unexpectedErrors } from './support.js'

// Every screen, checked by axe-core at 1280 and 390 px with the screenshots the README shows,
// and the steps the server may require before any of them: a new password, a second factor.


const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name })

test('clients and key pairs, users, audit log, token tester, signing keys, settings', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const { user, accountId } = await personOf(s, { email: 'admin@acme.example' })
  await personOf(s, { accountId, role: 'member', email: 'dev@acme.example' })
  const tab = await openTab(`${s.url}/clients`)
  t.after(() => tab.context.close())
  const { page } = tab
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByText('No clients yet.').waitFor()
  await assertAccessibleAtBothWidths(page, 'clients, empty')

  // Create a client of either level, with scopes, lifetime, algorithm and encryption.
  await page.getByRole('button', { name: 'Create client' }).click()
  const form = page.getByRole('dialog', { name: 'Create a client' })
  await form.getByLabel('Name').fill('billing-sync')
  await form.getByLabel('Scopes').fill('api.read')
  await form.getByLabel('Token lifetime').selectOption('3600')
  await form.getByLabel('Signing algorithm').selectOption('ES256')
  await assertAccessibleAtBothWidths(page, 'create client form', 'create-client')
  await form.getByRole('button', { name: 'Create client' }).click()
  await page.getByRole('heading', { name: 'Your new key pair' }).waitFor()
  const clientId = (await page.getByTestId('new-client-id').textContent())?.trim() ?? ''
  const clientSecret = (await page.getByTestId('new-client-secret').textContent())?.trim() ?? ''
  await page.getByRole('button', { name: 'I have copied them' }).click()
  await page.getByRole('button', { name: 'Create client' }).click()
  await form.getByLabel('Name').fill('ops-robot')
  await form.getByText('User: acts as one user').click()
  await form.getByLabel('User', { exact: true }).selectOption({ label: 'dev@acme.example' })
  await form.getByLabel('Encryption').selectOption('RSA-OAEP-256')
  await form.getByRole('button', { name: 'Create client' }).click()
  await page.getByRole('heading', { name: 'Your new key pair' }).waitFor()
  await page.getByRole('button', { name: 'I have copied them' }).click()
  await page.getByRole('link', { name: 'ops-robot' }).waitFor()
  assert.match(await page.getByRole('row', { name: /ops-robot/ }).textContent() ?? '', /user: dev@acme\.example/)
  await assertAccessibleAtBothWidths(page, 'clients', 'clients')

  // A client's key pairs: tokens issued and last use, rotation with a grace.
  const tokenRes = await fetch(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }) })
  const { access_token: accessToken } = await tokenRes.json() as { access_token: string }
  await s.server.flushUsage()
  await page.getByRole('link', { name: 'billing-sync' }).click()
  await page.getByRole('heading', { name: 'billing-sync' }).waitFor()
  await page.getByText('ES256').waitFor()
  await page.getByRole('button', { name: 'Generate new keys' }).click()
  const rotate = page.getByRole('alertdialog', { name: 'Generate new keys?' })
  await rotate.getByText('After a grace period of 1 day').click()
  await rotate.getByRole('button', { name: 'Generate new keys' }).click()
  await page.getByRole('heading', { name: 'Your new key pair' }).waitFor()
  await page.getByRole('button', { name: 'I have copied them' }).click()
  await page.locator('tr[data-state="grace"]').waitFor()
  assert.equal(await page.locator('tr[data-state="grace"] td[data-label="Tokens issued"]').textContent(), '1')
  assert.doesNotMatch(await page.locator('tr[data-state="grace"] td[data-label="Last used"]').textContent() ?? '', /never/)
  assert.match(await page.locator('tr[data-state="grace"] [data-testid="last-used-from"]').textContent() ?? '', /^from \S+/, 'where the last use came from')
  await assertAccessibleAtBothWidths(page, 'client detail', 'client-detail')

  // Requiring DPoP: the switch changes the client at once; its bearer token requests are refused from then on.
  const bearerRequest = () => fetch(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }) })
  await page.getByText(/^Require DPoP: a stolen token/).click()
  await page.getByText('DPoP-bound only (RFC 9449)').waitFor()
  assert.equal(((await (await bearerRequest()).json()) as { error?: string }).error, 'invalid_dpop_proof')
  await page.getByText(/^Require DPoP: a stolen token/).click()
  await page.getByText('bearer, or DPoP-bound when asked with a proof').waitFor()
  assert.equal((await bearerRequest()).status, 200)
  // Its limits: none yet; set a rate limit and a quota, monitored only.
  assert.equal(await page.getByTestId('rate-limit').textContent(), 'none')
  await page.getByRole('button', { name: 'Change limits' }).click()
  const limits = page.getByRole('dialog', { name: 'Rate limit and quota' })
  await limits.getByLabel('Rate limit: token requests').fill('many')
  await limits.getByRole('button', { name: 'Save limits' }).click()
  await limits.getByText('Enter a whole number of requests, or leave it empty for no rate limit.').waitFor()
  await limits.getByLabel('Rate limit: token requests').fill('600')
  await limits.getByLabel('Quota: tokens').fill('100000')
  await limits.getByText('Monitor: issue the token').click()
  await assertAccessibleAtBothWidths(page, 'client limits form', 'client-limits')
  await limits.getByRole('button', { name: 'Save limits' }).click()
  await page.getByText('The limits are saved').waitFor()
  // The message comes before the refetched client: wait for the values to show.
  await page.getByTestId('rate-limit').filter({ hasText: /^600 token requests per minute/ }).waitFor()
  await page.getByTestId('quota').filter({ hasText: /^100,000 tokens per month/ }).waitFor()
  await page.getByTestId('quota-mode').filter({ hasText: /^monitored only/ }).waitFor()

  // Users: create one, then disabling explains the effect before it happens.
  await nav(page, 'Users').click()
  await page.getByRole('button', { name: 'Create user' }).click()
  const create = page.getByRole('dialog', { name: 'Create a user' })
  // Errors appear next to the field they are about, on submit: an empty field, a malformed
  // email (the server's schema), an email taken (the server's rule).
  const emailError = () => create.locator('.field-error').textContent()
  await create.getByRole('button', { name: 'Create user' }).click()
  assert.equal(await emailError(), 'Fill this in.')
  await create.getByLabel('Email').fill('not-an-email')
  await create.getByRole('button', { name: 'Create user' }).click()
  await create.getByText('Enter an email address, such as name@example.com.').waitFor()
  await create.getByLabel('Email').fill('dev@acme.example')
  await create.getByRole('button', { name: 'Create user' }).click()
  await create.getByText(/dev@acme\.example/).waitFor()
  assert.match(await emailError() ?? '', /dev@acme\.example/)
  await create.getByLabel('Email').fill('new@acme.example')
  await create.getByRole('button', { name: 'Create user' }).click()
  await page.getByText('new@acme.example was created.').waitFor()
  await assertAccessibleAtBothWidths(page, 'users', 'users')
  await page.getByRole('button', { name: 'Change dev@acme.example' }).click()
  const edit = page.getByRole('dialog', { name: 'Change dev@acme.example' })
  await edit.getByText('Disabled', { exact: true }).click()
  await edit.getByRole('button', { name: 'Save' }).click()
  const disable = page.getByRole('alertdialog', { name: 'Disable dev@acme.example?' })
  await disable.getByText('1 user-level client of dev@acme.example get no new tokens').waitFor()
  await disable.getByText('Every token those clients were issued stops being accepted, for good').waitFor()
  await assertAccessibleAtBothWidths(page, 'disable confirmation', 'disable-user')
  await disable.getByRole('button', { name: 'Save' }).click()
  await page.getByText('dev@acme.example was changed.').waitFor()
  // The message comes before the refetched list: wait for the row to show the change.
  await page.getByRole('row', { name: /dev@acme\.example/ }).filter({ hasText: 'disabled' }).waitFor()

  await nav(page, 'Audit log').click()
  await page.getByRole('cell', { name: 'key_pair.rotated' }).first().waitFor()
  await page.getByLabel('Action contains').fill('user.')
  assert.equal(await page.getByRole('cell', { name: 'key_pair.rotated' }).count(), 0)
  await page.getByLabel('Action contains').fill('')
  await assertAccessibleAtBothWidths(page, 'audit log', 'audit-log')

  await nav(page, 'Token tester').click()
  await page.getByLabel('Access token').fill(accessToken)
  await page.getByRole('button', { name: 'Check token' }).click()
  await page.getByTestId('signature-verdict').getByText('signature verified').waitFor()
  // Its key pair is in a one-day grace: still accepted.
  await page.getByTestId('active-verdict').getByText('keymint accepts it now.').waitFor()
  await assertAccessibleAtBothWidths(page, 'token tester', 'token-tester')
  await page.getByLabel('Access token').fill('nonsense')
  await page.getByRole('button', { name: 'Check token' }).click()
  await page.getByText('This is not a JWT').waitFor()

  await nav(page, 'Signing keys').click()
  await page.getByRole('cell', { name: 'sig', exact: true }).first().waitFor()
  await assertAccessibleAtBothWidths(page, 'signing keys', 'signing-keys')
  await nav(page, 'Settings').click()
  await page.getByRole('tab', { name: 'General', selected: true }).waitFor()
  await assertAccessibleAtBothWidths(page, 'settings, general')
  await page.getByRole('link', { name: /^Account home/ }).click()
  await assertAccessibleAtBothWidths(page, 'account home', 'account-home')
  assert.deepEqual(unexpectedErrors(tab), [])
})

test('dark theme follows the system setting', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const { user } = await personOf(s, { email: 'admin@acme.example' })
  const tab = await openTab(`${s.url}/settings/integrations/api`, { dark: true })
  t.after(() => tab.context.close())
  const { page } = tab
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByRole('button', { name: 'Generate new keys' }).click()
  await page.getByRole('heading', { name: 'Your new key pair' }).waitFor()
  const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
  assert.equal(background, 'rgb(15, 18, 22)')
  await assertAccessibleAtBothWidths(page, 'API tab, dark', 'api-tab-dark')
  assert.deepEqual(unexpectedErrors(tab), [])
})

test('first sign-in: a new password, then a second factor the account requires, then sign-in with a code', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const { user, accountId } = await personOf(s, { email: 'admin@acme.example' })
  // As the first start leaves the bootstrap admin: a one-time password to replace.
  await setUserPassword(s.services, { userId: user.id, password: 'one-time-Xk3a9-Qm2Lp', changeRequired: true })
  await s.services.store.accounts.setRequireAdminSecondFactor(accountId as AccountId, true)
  const tab = await openTab(s.url)
  t.after(() => tab.context.close())
  const { page } = tab
  await signInThroughPage(page, user.email, 'one-time-Xk3a9-Qm2Lp')
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor()
  await page.getByLabel('Current (one-time) password').fill('one-time-Xk3a9-Qm2Lp')
  await page.getByLabel('New password', { exact: true }).fill('password1234')
  await page.getByLabel('New password again').fill('password1234')
  await page.getByRole('button', { name: 'Save password' }).click()
  await page.getByText(/Choose another password/).waitFor()
  await assertAccessibleAtBothWidths(page, 'forced new password, with an error', 'new-password')
  await page.getByLabel('New password', { exact: true }).fill(PASSWORD)
  await page.getByLabel('New password again').fill(PASSWORD)
  await page.getByRole('button', { name: 'Save password' }).click()

  await page.getByRole('heading', { name: 'Set up a second factor' }).waitFor()
  await page.getByRole('img', { name: /QR code/ }).waitFor()
  const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? ''
  assert.match(secret, /^[A-Z2-7]+$/)
  await assertAccessibleAtBothWidths(page, 'second factor enrollment', 'second-factor')
  await page.getByLabel('Code from the app').fill(totpCode(secret, s.clock.now()))
  await page.getByRole('button', { name: 'Turn on' }).click()
  await page.getByRole('list', { name: 'Recovery codes' }).waitFor()
  await page.getByRole('button', { name: 'Continue to the dashboard' }).click()
  await page.getByRole('heading', { name: 'acme' }).waitFor()
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByText('You have signed out.').waitFor()

  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByLabel('Code').waitFor()
  s.clock.advance(30)
  await page.getByLabel('Code').fill('000000')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByText('That code is wrong').waitFor()
  await assertAccessibleAtBothWidths(page, 'sign-in, second factor', 'sign-in-code')
  await page.getByLabel('Code').fill(totpCode(secret, s.clock.now()))
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'acme' }).waitFor()
  assert.deepEqual(unexpectedErrors(tab), [])
})
