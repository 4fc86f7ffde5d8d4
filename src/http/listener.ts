import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** The listening socket, bound before the app exists so the app is built knowing its own URL. */
export interface Listener {
  readonly server: http.Server
  /** http://HOST:PORT of the bound socket. */
  readonly url: string
  /** Starts answering with `handler`; requests that arrived before it wait for it, in order. */
  serve(handler: http.RequestListener): void
  /**
   * Stops accepting, lets in-flight requests finish, closes idle keep-alive connections; after
   * `drainMs`, closes the connections still open (a client that does not read its answer).
   */
  close(): Promise<void>
}

// Longer than common load balancers' idle timeouts (60 s), as Fastify's own default.
const KEEP_ALIVE_TIMEOUT_MS = 72_000
/** Requests here take milliseconds: a connection still busy after this long is not going to finish. */
const DRAIN_MS = 10_000

export async function bindListener(host: string, port: number, opts: { drainMs?: number | undefined } = {}): Promise<Listener> {
  let handler: http.RequestListener | undefined
  const waiting: [http.IncomingMessage, http.ServerResponse][] = []
  const server = http.createServer((request, response) => {
    if (handler) handler(request, response)
    else waiting.push([request, response])
  })
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port: bound } = server.address() as AddressInfo
  let closing: Promise<void> | undefined
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    serve(next) {
      handler = next
      for (const [request, response] of waiting.splice(0)) next(request, response)
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        // A client that never reads its answer would otherwise hold its connection, and the stop, for ever.
        const drained = setTimeout(() => server.closeAllConnections(), opts.drainMs ?? DRAIN_MS)
        drained.unref()
        server.close(() => {
          clearTimeout(drained)
          resolve()
        })
        server.closeIdleConnections()
      })
      return closing
    },
  }
}
