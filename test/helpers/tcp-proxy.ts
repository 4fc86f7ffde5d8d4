import { createServer, connect, type Socket } from 'node:net'
import type { TestContext } from 'node:test'
import { cleanup } from './cleanup.js'

/** A TCP proxy in front of a database that a test can cut off and reconnect, as a network outage would. */
export interface TcpProxy {
  readonly port: number
  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string
  /** Drops every connection and refuses new ones until `restore`. */
  cut(): void
  /**
   * Keeps every connection open but carries nothing either way until `restore`, as a network
   * that silently loses packets would: neither side hears of an error.
   */
  stall(): void
  restore(): void
}

export async function startTcpProxy(t: TestContext, target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let open = true
  let stalled = false
  /** What arrived while stalled, delivered in order on restore. */
  const held: [Socket, Buffer][] = []
  const server = createServer((client) => {
    if (!open) {
      client.destroy()
      return
    }
    const upstream = connect(target.port, target.host)
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(a)
      a.on('error', () => b.destroy())
      a.on('close', () => { sockets.delete(a); b.destroy() })
      a.on('data', (chunk: Buffer) => {
        if (stalled) held.push([b, chunk])
        else b.write(chunk)
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port')
  cleanup(t, async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {
    port: address.port,
    through(url) {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(address.port)
      return u.toString()
    },
    cut() {
      open = false
      held.length = 0
      for (const s of sockets) s.destroy()
    },
    stall() {
      stalled = true
    },
    restore() {
      open = true
      stalled = false
      for (const [to, chunk] of held.splice(0)) if (!to.destroyed) to.write(chunk)
    },
  }
}
