import { auditEvent, type AuditEvent, type AuditStore } from '../domain/audit.js'
import { BatchedWriter } from './background.js'
import type { Clock } from '../domain/ports.js'
import type { AccountId } from '../domain/types.js'

export interface Refusal {
  /** Who failed to authenticate: a client at a token endpoint (the default), or a person signing in. */
  readonly subject?: 'client' | 'user'
  /** The client_id as presented, or the user's id (an unknown email's text); written only when such a client or user exists. */
  readonly clientId: string
  readonly address: string
  readonly reason: string
  /** The account of the presented client_id, or null when no such client exists (or it was not looked up). */
  readonly accountId: string | null
  /** Which check failed, as a code (never a presented value): written into the event's details. */
  readonly detail?: string
}

interface Row {
  readonly subject: 'client' | 'user'
  readonly accountId: string | null
  /** Null when the row folds several client ids. */
  readonly clientId: string | null
  readonly address: string
  readonly reason: string
  readonly detail: string | undefined
  readonly first: Date
  count: number
  /** Fingerprints of the folded client ids, to count them without keeping them. */
  readonly tried: Set<number> | undefined
}

// Distinct rows of each kind held between flushes; beyond it, rows fold further (see #rowFor),
// so a flood costs bounded memory and rows whatever ids and addresses it uses.
const MAX_KEYS = 10_000
// Enough to tell a spray of random ids from one stale id retried, in a few kilobytes per row.
const MAX_IDS_COUNTED = 100

/** FNV-1a: a 32-bit fingerprint, so a folded row counts ids without holding them. */
function fingerprint(value: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193)
  return hash >>> 0
}

function toEvent(row: Row): AuditEvent {
  const folded = row.clientId === null
  return auditEvent({
    accountId: row.accountId as AccountId | null,
    actor: `${row.subject}:${row.clientId ?? '*'}`,
    action: row.subject === 'user' ? 'sign_in.refused' : 'authentication.refused',
    target: row.clientId,
    reason: row.reason,
    count: row.count,
    details: {
      address: row.address,
      ...(folded ? { [row.subject === 'user' ? 'emails' : 'client_ids']: row.tried?.size ?? 0 } : {}),
      ...(row.detail === undefined ? {} : { detail: row.detail }),
    },
    createdAt: row.first,
  })
}

/**
 * Refused authentications, written to the audit log in batches with a count. A refusal against
 * an existing client keeps its client_id and account, so the account's admins see it; any
 * other (unknown or malformed id, an address refused before its credentials were read) folds
 * into one row per address and reason, since its client_id is whatever the caller made up.
 */
export class RefusalLog {
  readonly #known: BatchedWriter<string, Row>
  readonly #unknown: BatchedWriter<string, Row>
  readonly #clock: Clock

  constructor(deps: { audit: AuditStore; clock: Clock; onError: (err: unknown) => void }) {
    this.#clock = deps.clock
    const write = (batch: ReadonlyMap<string, Row>) => deps.audit.insert([...batch.values()].map(toEvent))
    this.#known = new BatchedWriter(write, deps.onError)
    this.#unknown = new BatchedWriter(write, deps.onError)
  }

  record(refusal: Refusal): void {
    const row = this.#rowFor(refusal)
    row.count++
    if (row.tried && row.tried.size < MAX_IDS_COUNTED) row.tried.add(fingerprint(refusal.clientId))
  }

  #rowFor({ subject = 'client', clientId, address, reason, accountId, detail }: Refusal): Row {
    const batch = accountId === null ? this.#unknown : this.#known
    // A detail is a code from a fixed set (which check failed), so keying by it stays bounded.
    let key = accountId === null ? `${subject}\n${address}\n${reason}\n${detail ?? ''}` : `${subject}\n${clientId}\n${address}\n${reason}\n${detail ?? ''}`
    let row: Omit<Row, 'count' | 'first'> = accountId === null
      ? { subject, accountId, clientId: null, address, reason, detail, tried: new Set() }
      : { subject, accountId, clientId, address, reason, detail, tried: undefined }
    if (!batch.has(key) && batch.size >= MAX_KEYS) {
      // Full: unknown ids fold into one row per reason; a known client's into one per account
      // and reason, so its admins still see it (accounts are a bounded set).
      key = accountId === null ? `${subject}\n*\n${reason}` : `${subject}\n*\n${accountId}\n${reason}`
      row = { subject, accountId, clientId: null, address: '*', reason, detail: undefined, tried: new Set() }
    }
    const existing = batch.get(key)
    if (existing) return existing
    const created: Row = { ...row, count: 0, first: this.#clock.now() }
    batch.set(key, created)
    return created
  }

  start(intervalMs: number): void {
    this.#known.start(intervalMs)
    this.#unknown.start(intervalMs)
  }

  async flush(): Promise<void> {
    await Promise.all([this.#known.flush(), this.#unknown.flush()])
  }

  async stop(): Promise<void> {
    await Promise.all([this.#known.stop(), this.#unknown.stop()])
  }
}
