import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startTestServer } from '../helpers/server.js'

// keymint serve answers the dashboard at / (src/http/routes/dashboard.ts), without taking any
// other surface's answers.

test('the page, its hashed assets, deep links, and the 404s of the other surfaces', async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const page = await fetch(`${s.url}/`)
  assert.equal(page.status, 200)
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  assert.equal(page.headers.get('cache-control'), 'no-cache')
  const csp = page.headers.get('content-security-policy') ?? ''
  assert.match(csp, /script-src 'self';/, 'no inline script, ever')
  assert.match(csp, /frame-ancestors 'none'/)
  const html = await page.text()
  const nonce = /<meta name="csp-nonce" nonce="([^"]+)">/.exec(html)?.[1]
  assert.ok(nonce, 'the page carries its style nonce')
  assert.ok(csp.includes(`style-src 'self' 'nonce-${nonce}'`))
  const again = await (await fetch(`${s.url}/`)).text()
  assert.notEqual(/nonce="([^"]+)"/.exec(again)?.[1], nonce, 'a nonce per load')
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script is a file')

  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
  assert.ok(asset)
  const js = await fetch(`${s.url}${asset}`)
  assert.equal(js.status, 200)
  assert.match(js.headers.get('content-type') ?? '', /javascript/)
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable')
  assert.equal(js.headers.get('x-content-type-options'), 'nosniff')
  assert.ok((await js.text()).length > 0)
  const icon = await fetch(`${s.url}/favicon.svg`)
  assert.deepEqual([icon.status, icon.headers.get('cache-control')], [200, 'no-cache'])
  await icon.text()

  for (const path of ['/settings/integrations/api', '/clients/6d5a06e8-ef3d-4771-85f0-6917d469a55a', '/no/such/page', '/healthz/deeper']) {
    const res = await fetch(`${s.url}${path}`)
    assert.equal(res.status, 200, path)
    assert.match(await res.text(), /<div id="root">/, path)
  }
  for (const path of ['/api/v1/nothing-here', '/api', '/oauth2/nothing', '/auth/nothing', '/.well-known/nothing', '/assets/missing.js']) {
    const res = await fetch(`${s.url}${path}`)
    assert.equal(res.status, 404, path)
    assert.match(res.headers.get('content-type') ?? '', /json/, path)
    await res.text()
  }
  // Every answer read to its end: one left unread would hold its connection open until the stop's drain.
  const apiMiss = await fetch(`${s.url}/api/v1/nothing-here`)
  assert.equal(apiMiss.headers.get('cache-control'), 'no-store')
  await apiMiss.text()
  const wrongMethod = await fetch(`${s.url}/oauth2/token`)
  assert.equal(wrongMethod.status, 405, 'the token endpoint still says which methods it takes')
  await wrongMethod.text()
  for (const path of ['/.well-known/jwks.json', '/healthz']) {
    const res = await fetch(`${s.url}${path}`)
    assert.equal(res.status, 200, path)
    await res.text()
  }
})
