import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient } from '../../src/domain/clients.js'
import { PASSWORD, personOf } from '../helpers/browser.js'
import { OidcIssuer } from '../helpers/oidc-issuer.js'
import { startTestServer } from '../helpers/server.js'
import { assertAccessibleAtBothWidths, IN_BROWSER, openTab, signInThroughPage, unexpectedErrors } from './support.js'

// A client's trust policies on its page: an admin adds one through the form (a refused subject
// shown next to its field first), a workload's token then gets the client's tokens, and the
// admin deletes the policy again.


test('an admin adds and deletes a trust policy on the client page; the policy works at /oauth2/token', IN_BROWSER, async (t) => {
  const s = await startTestServer(t, 'sqlite', { federationAllowLoopback: 'true' })
  const issuer = await OidcIssuer.start(t, { now: () => s.clock.now() })
  const { user, accountId } = await personOf(s, { email: 'admin@acme.example' })
  const { client } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
    accountId, name: 'deploy-bot', level: 'subscription', scopes: ['deploy:write'],
  })
  const tab = await openTab(`${s.url}/clients/${client.id}`)
  t.after(() => tab.context.close())
  const { page } = tab
  await signInThroughPage(page, user.email, PASSWORD)
  await page.getByRole('heading', { name: 'deploy-bot' }).waitFor()
  await page.getByText('No trust policy.').waitFor()

  await page.getByRole('button', { name: 'Add trust policy' }).click()
  const form = page.getByRole('dialog', { name: 'Add a trust policy' })
  await form.getByLabel('Issuer', { exact: true }).fill(issuer.url)
  assert.equal(await form.getByLabel('Audience').inputValue(), s.url, 'the audience defaults to this server')
  await form.getByLabel('Subject').fill('*')
  await form.getByLabel('Required claims').fill('workflow=release\nrepository_owner=acme')
  await form.getByLabel('Maximum token age').selectOption('600')
  await form.getByRole('button', { name: 'Add trust policy' }).click()
  await form.getByText(/Subject must name something besides \*/).waitFor()
  await form.getByLabel('Subject').fill('repo:acme/deploy:ref:refs/heads/*')
  await assertAccessibleAtBothWidths(page, 'trust policy form', 'trust-policy-form')
  await form.getByRole('button', { name: 'Add trust policy' }).click()
  await page.getByText(/now get tokens of this client/).waitFor()
  const row = page.getByRole('row', { name: /repo:acme\/deploy:ref:refs\/heads\/\*/ })
  assert.match(await row.textContent() ?? '', /workflow=release.*repository_owner=acme.*from discovery; at most 10 minutes old/)
  await assertAccessibleAtBothWidths(page, 'client detail with a trust policy', 'trust-policies')

  // The policy made through the page accepts the workload's token.
  const exchange = async () => fetch(`${s.url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: await issuer.github(s.url), subject_token_type: 'urn:ietf:params:oauth:token-type:jwt' }),
  })
  const ok = await exchange()
  assert.equal(ok.status, 200)
  assert.equal((await ok.json() as { scope: string }).scope, 'deploy:write')

  await page.getByRole('button', { name: 'Delete the trust policy for repo:acme/deploy:ref:refs/heads/*' }).click()
  const confirm = page.getByRole('alertdialog', { name: 'Delete this trust policy?' })
  await confirm.getByRole('button', { name: 'Delete trust policy' }).click()
  await page.getByText('No trust policy.').waitFor()
  assert.equal((await exchange()).status, 400, 'refused once deleted')
  assert.deepEqual(unexpectedErrors(tab), [])
})
