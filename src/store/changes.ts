import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import type { SqlEngine } from './database-url.js'
import type { Database } from './schema.js'

/** What other instances cache and must reload when it changes. */
export type ChangeTopic = 'revocations' | 'server_keys'
const TOPICS: ReadonlySet<string> = new Set<ChangeTopic>(['revocations', 'server_keys'])

const CHANNEL = 'keymint_changes'

/**
 * Tells every instance sharing a PostgreSQL database that `topic` changed. Inside a transaction
 * PostgreSQL delivers it on commit, never for a rollback. SQLite has no such channel: instances
 * there rely on polling alone.
 */
export async function announceChange(db: Kysely<Database>, engine: SqlEngine, topic: ChangeTopic): Promise<void> {
  if (engine !== 'postgres') return
  await sql`select pg_notify(${CHANNEL}, ${topic})`.execute(db)
}

export interface ChangeListener {
  close(): Promise<void>
}

const RECONNECT_MIN_MS = 500
const RECONNECT_MAX_MS = 30_000

/**
 * `LISTEN`s for changes announced by any instance on a connection of its own, reconnecting with
 * backoff when it drops. After every (re)connect it reports each topic as changed, since
 * announcements made while it was away are lost.
 */
export function listenForChanges(
  url: string,
  handlers: Readonly<Record<ChangeTopic, () => void>>,
  onError: (err: unknown) => void,
): ChangeListener {
  const onChange = (topic: ChangeTopic): void => handlers[topic]()
  let client: pg.Client | undefined
  let closed = false
  let delay = RECONNECT_MIN_MS
  let timer: NodeJS.Timeout | undefined

  const reconnectLater = (): void => {
    if (closed || timer) return
    timer = setTimeout(() => { timer = undefined; void connect() }, delay)
    timer.unref()
    delay = Math.min(delay * 2, RECONNECT_MAX_MS)
  }

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
    next.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload !== undefined && TOPICS.has(message.payload)) {
        onChange(message.payload as ChangeTopic)
      }
    })
    next.on('error', (err) => {
      onError(err)
      next.end().catch(() => {})
      if (client === next) client = undefined
      reconnectLater()
    })
    try {
      await next.connect()
      await next.query(`LISTEN ${CHANNEL}`)
    } catch (err) {
      onError(err)
      next.end().catch(() => {})
      reconnectLater()
      return
    }
    if (closed) {
      await next.end().catch(() => {})
      return
    }
    client = next
    delay = RECONNECT_MIN_MS
    // The first connect too: what the instance loaded before it listened may have changed since.
    for (const topic of TOPICS) onChange(topic as ChangeTopic)
  }

  void connect()
  return {
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      await client?.end().catch(() => {})
      client = undefined
    },
  }
}
