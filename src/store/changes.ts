import { sql, type Kysely } from 'kysely'
import pg from 'pg'
import { parseCredentialSubject, type CredentialSubject } from './credential-changes.js'
import type { SqlEngine } from './database-url.js'
import { DATABASE_ANSWER_MS } from './database.js'
import type { Database } from './schema.js'

/** What other instances cache and must reload when it changes. */
export type ChangeTopic = 'revocations' | 'server_keys' | 'credentials'

const CHANNEL = 'keymint_changes'
/** How the listening connection names itself in `pg_stat_activity`. */
export const LISTENER_APPLICATION_NAME = 'keymint-changes'

/**
 * Tells every instance sharing a PostgreSQL database that `topic` changed. Inside a transaction
 * PostgreSQL delivers it on commit, never for a rollback. SQLite has no such channel: instances
 * there poll instead. (Credential rows announce themselves: see migration 0015.)
 */
export async function announceChange(db: Kysely<Database>, engine: SqlEngine, topic: Exclude<ChangeTopic, 'credentials'>): Promise<void> {
  if (engine !== 'postgres') return
  await sql`select pg_notify(${CHANNEL}, ${topic})`.execute(db)
}

export interface ChangeHandlers {
  readonly revocations: () => void
  readonly server_keys: () => void
  /** `*`: anything may have changed (a reconnect, an announcement not understood). */
  readonly credentials: (subject: CredentialSubject) => void
}

export interface ChangeListener {
  /**
   * A time (by `now`) before which every announcement has been handled: the start of the last
   * round trip on the listening connection that came back. Notifications committed before a
   * query is sent arrive before its answer, so caches may trust what they hold up to then.
   */
  freshAsOf(): number
  /**
   * Resolves once every announcement committed before the call has been handled: one round trip
   * on the listening connection, after the connection being made if there is one (at once when
   * there is none: everything is reloaded on reconnect).
   */
  sync(): Promise<void>
  close(): Promise<void>
}

const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 4000
/** How often the listening connection proves it is alive; `freshAsOf` lags by about this much. */
const HEARTBEAT_MS = 250
/** A heartbeat unanswered for this long means a dead connection: it is dropped and made again. */
const HEARTBEAT_TIMEOUT_MS = 3000

/**
 * `LISTEN`s for changes announced by any instance on a connection of its own, reconnecting with
 * backoff when it drops, and proving the connection alive every heartbeat. After every
 * (re)connect it reports each topic as changed, since announcements made while it was away are
 * lost.
 */
export function listenForChanges(
  url: string,
  handlers: ChangeHandlers,
  onError: (err: unknown) => void,
  now: () => number = () => performance.now(),
): ChangeListener {
  const everything = (): void => {
    handlers.revocations()
    handlers.server_keys()
    handlers.credentials('*')
  }
  let client: pg.Client | undefined
  let closed = false
  let delay = RECONNECT_MIN_MS
  let timer: NodeJS.Timeout | undefined
  let heartbeat: NodeJS.Timeout | undefined
  let freshAsOf = Number.NEGATIVE_INFINITY

  const reconnectLater = (): void => {
    if (closed || timer) return
    timer = setTimeout(() => { timer = undefined; connect() }, delay)
    timer.unref()
    delay = Math.min(delay * 2, RECONNECT_MAX_MS)
  }

  const drop = (dead: pg.Client): void => {
    if (client !== dead) return
    client = undefined
    if (heartbeat) clearTimeout(heartbeat)
    heartbeat = undefined
    dead.end().catch(() => {})
    reconnectLater()
  }

  /**
   * One round trip on the listening connection: announcements committed before it was sent have
   * arrived (and been handled) by its answer, so caches are fresh as of its start.
   */
  const roundTrip = async (live: pg.Client): Promise<void> => {
    const sentAt = now()
    await live.query('select 1')
    if (client === live) freshAsOf = Math.max(freshAsOf, sentAt)
  }

  const beat = (live: pg.Client): void => {
    heartbeat = setTimeout(() => {
      const overdue = setTimeout(() => {
        onError(new Error(`the change listener's connection did not answer within ${HEARTBEAT_TIMEOUT_MS} ms`))
        drop(live)
      }, HEARTBEAT_TIMEOUT_MS)
      overdue.unref()
      roundTrip(live).then(() => {
        clearTimeout(overdue)
        if (client === live) beat(live)
      }, () => {
        clearTimeout(overdue)
        drop(live)
      })
    }, HEARTBEAT_MS)
    heartbeat.unref()
  }

  const attempt = async (): Promise<void> => {
    // Both bounded: a network gone silent after the handshake must not hold the LISTEN (and so
    // `sync` and `close`) for ever.
    const next = new pg.Client({
      connectionString: url, connectionTimeoutMillis: DATABASE_ANSWER_MS, query_timeout: DATABASE_ANSWER_MS, application_name: LISTENER_APPLICATION_NAME, keepAlive: true,
    })
    next.on('notification', (message) => {
      if (message.channel !== CHANNEL || message.payload === undefined) return
      const colon = message.payload.indexOf(':')
      const topic = colon === -1 ? message.payload : message.payload.slice(0, colon)
      if (topic === 'credentials') handlers.credentials(parseCredentialSubject(colon === -1 ? undefined : message.payload.slice(colon + 1)))
      else if (topic === 'revocations') handlers.revocations()
      else if (topic === 'server_keys') handlers.server_keys()
    })
    next.on('error', (err) => {
      onError(err)
      if (client === next) drop(next)
      else next.end().catch(() => {})
    })
    const startedAt = now()
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
    everything()
    freshAsOf = Math.max(freshAsOf, startedAt)
    beat(next)
  }

  let connecting: Promise<void> | undefined
  const connect = (): void => {
    connecting = attempt().finally(() => { connecting = undefined })
  }

  connect()
  return {
    freshAsOf: () => freshAsOf,
    async sync() {
      // A connection being made reloads everything once made (its timeouts bound the wait).
      await connecting?.catch(() => {})
      // A failed round trip is the heartbeat's to notice; the reconnect reloads everything.
      if (client) await roundTrip(client).catch(() => {})
    },
    async close() {
      closed = true
      if (timer) clearTimeout(timer)
      // A connection being made is ended by its own attempt, which sees `closed`: wait for that.
      await connecting?.catch(() => {})
      if (heartbeat) clearTimeout(heartbeat)
      await client?.end().catch(() => {})
      client = undefined
    },
  }
}
