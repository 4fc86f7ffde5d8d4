import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { startTestServer } from '../helpers/server.js'

/** Sends raw bytes and returns everything the server answers before it closes. */
function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes))
    let answer = ''
    socket.on('data', (chunk) => { answer += chunk.toString() })
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
    socket.setTimeout(5000, () => { socket.destroy(); reject(new Error('no answer')) })
  })
}

const bodyOf = (answer: string): unknown => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))

test('requests Node cannot parse get keymint error bodies, and the server goes on serving', async (t) => {
  const { url } = await startTestServer(t, 'sqlite')
  const cases: [string, string, number][] = [
    ['both Content-Length and Transfer-Encoding', 'POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['a broken request line', 'GET /oauth2 token HTTP/1.1 extra\r\n\r\n', 400],
    ['bad chunk framing', 'POST /oauth2/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n', 400],
    ['20 kB of headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ]
  for (const [what, bytes, status] of cases) {
    const answer = await raw(url, bytes)
    assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), what)
    assert.match(answer, /content-type: application\/json/i, what)
    const body = bodyOf(answer) as { error: string; error_description: string }
    assert.equal(body.error, 'invalid_request', what)
    assert.equal(typeof body.error_description, 'string', what)
  }
  assert.equal((await fetch(`${url}/healthz`)).status, 200)
})

test('a malformed URL is a 400 problem document', async (t) => {
  const { url } = await startTestServer(t, 'sqlite')
  const answer = await raw(url, 'GET /.well-known/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.match(answer, /^HTTP\/1\.1 400 /)
  assert.match(answer, /content-type: application\/problem\+json/i)
  assert.deepEqual(bodyOf(answer), { type: 'about:blank', title: 'invalid_request', status: 400, detail: 'the URL is malformed' })
})

test('a known path asked with another method is 405 with Allow', async (t) => {
  const { url } = await startTestServer(t, 'sqlite')
  for (const [method, path] of [['GET', '/oauth2/token'], ['PUT', '/auth/oauth'], ['GET', '/oauth2/introspect'], ['DELETE', '/auth/oidc']] as const) {
    const res = await fetch(`${url}${path}`, { method })
    assert.equal(res.status, 405, `${method} ${path}`)
    assert.equal(res.headers.get('allow'), 'POST')
    assert.deepEqual(await res.json(), { error: 'invalid_request', error_description: `${path} accepts POST only` })
  }
  const api = await fetch(`${url}/api/v1/openapi.json`, { method: 'POST' })
  assert.equal(api.status, 405)
  assert.equal(api.headers.get('allow'), 'GET')
  assert.equal((await api.json() as { status: number }).status, 405)
  // Any other unknown path is the dashboard's page (a deep link); API paths keep their 404.
  assert.equal((await fetch(`${url}/api/v1/no-such-path`)).status, 404)
})
