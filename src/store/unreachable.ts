// Errors that say the database cannot be reached or cannot serve now, as opposed to a query
// it refused: the network (socket codes), PostgreSQL's connection classes (SQLSTATE 08, the
// shutdown codes of 57P, too many connections) and node-postgres's own connection messages,
// SQLite's busy and I/O errors.
const SOCKET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH',
  'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ENOTCONN',
])
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300'])
const SQLITE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|PROTOCOL)/
const PG_MESSAGES = [
  'Connection terminated', 'timeout exceeded when trying to connect', 'is not queryable', 'Query read timeout',
  'connection timeout', 'Cannot use a pool after calling end on the pool',
]

/** Why `err` means the database is unreachable (a short code or phrase), or undefined when it does not. */
export function unreachableReason(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const { code, message } = err as { code?: unknown; message?: unknown }
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08')) return code
    if (SQLITE_CODES.test(code)) return code
  }
  if (typeof message === 'string') {
    const known = PG_MESSAGES.find((m) => message.includes(m))
    if (known !== undefined) return known
  }
  // AggregateError (a host with several addresses, all refused) carries the socket errors inside.
  const inner = (err as { errors?: unknown }).errors
  if (Array.isArray(inner)) return inner.map(unreachableReason).find((r) => r !== undefined)
  return undefined
}
