import { request as httpRequest, type Agent } from 'node:http'

export interface RawAnswer {
  /** 0 when the connection ended before an answer (a refused oversized upload may do that). */
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/**
 * One HTTP request as sent, whatever the method: unlike fetch, it sends a body with GET and HEAD
 * too, and any header. A fresh connection each time, so one refused request cannot affect the
 * next, unless `agent` is given (a keep-alive agent saves a connection per request).
 */
export function rawRequest(url: string, opts: { method: string; headers?: Record<string, string>; body?: string | Buffer; agent?: Agent }): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body)
    const req = httpRequest(url, {
      method: opts.method,
      agent: opts.agent ?? false,
      headers: { ...opts.headers, ...(body === undefined ? {} : { 'content-length': String(body.length) }) },
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', () => resolve({ status: 0, headers: {}, body: '' }))
    req.end(body)
  })
}
