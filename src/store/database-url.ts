import { resolve } from 'node:path'

export type SqlEngine = 'sqlite' | 'postgres'

export type DatabaseLocation =
  | { readonly engine: 'sqlite'; readonly filename: string | ':memory:' }
  | { readonly engine: 'postgres'; readonly url: string; readonly host: string; readonly port: number; readonly database: string }

export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError'
}

/** Parses `sqlite:<path>`, `sqlite::memory:` and `postgres://…` (DESIGN §8). */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length).replace(/^\/\//, '')
    if (rest === ':memory:') return { engine: 'sqlite', filename: ':memory:' }
    if (rest.length === 0 || rest.includes('\0')) {
      throw new DatabaseUrlError(`malformed database URL ${JSON.stringify(url)}: expected sqlite:<path>`)
    }
    return { engine: 'sqlite', filename: resolve(rest) }
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new DatabaseUrlError('malformed PostgreSQL URL: expected postgres://user@host:port/database')
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
    if (!parsed.hostname || !database) {
      throw new DatabaseUrlError('malformed PostgreSQL URL: expected postgres://user@host:port/database')
    }
    return { engine: 'postgres', url, host: parsed.hostname, port: Number(parsed.port || 5432), database }
  }
  throw new DatabaseUrlError(
    `unsupported database URL ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}: use sqlite:<path>, sqlite::memory: or postgres://…`,
  )
}

/** A URL safe to print: the password, if any, replaced. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/, '$1:***@')
}
