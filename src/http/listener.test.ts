import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { test } from 'node:test'
import { bindListener } from './listener.js'

test('a stop closes, once the drain is over, a connection whose client does not read its answer', { timeout: 30_000 }, async () => {
  const listener = await bindListener('127.0.0.1', 0, { drainMs: 200 })
  // Streamed, as a file is: the answer goes on only as the client reads it, and this one does not.
  const chunk = Buffer.alloc(1024 * 1024, 'x')
  const length = 64 * chunk.length
  let started!: () => void
  const answering = new Promise<void>((resolve) => { started = resolve })
  listener.serve((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(length) })
    let sent = 0
    const more = (): void => {
      while (sent < length) {
        sent += chunk.length
        if (!response.write(chunk)) {
          response.once('drain', more)
          started()
          return
        }
      }
      response.end()
    }
    more()
  })
  const { port } = new URL(listener.url)
  const client = connect(Number(port), '127.0.0.1')
  client.pause()
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
  client.write('GET / HTTP/1.1\r\nhost: keymint\r\n\r\n')
  await answering

  await listener.close()
  // Reading again, the client finds its connection ended, short of the whole answer.
  let received = 0
  client.on('data', (chunk: Buffer) => { received += chunk.length })
  client.resume()
  await closed
  assert.ok(received < length, `${received} bytes`)
})
