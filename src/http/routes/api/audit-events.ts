import type { FastifyInstance } from 'fastify'
import { InvalidInput } from '../../../domain/errors.js'
import { presentAuditEvent } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import type { ManagementDeps } from './management-deps.js'
import * as s from './schemas.js'

const auditEvent = {
  type: 'object', additionalProperties: false,
  properties: {
    id: { type: 'string' }, time: { type: 'string' }, account_id: { type: ['string', 'null'] }, actor: { type: 'string' }, action: { type: 'string' },
    target: { type: ['string', 'null'] }, reason: { type: ['string', 'null'] }, count: { type: 'integer' }, details: { type: 'object', additionalProperties: true },
  },
} as const

/** Cursor for the audit log: the time and id of the last event of the previous page. */
const encodeCursor = (time: Date, id: string) => Buffer.from(JSON.stringify([time.getTime(), id])).toString('base64url')
function decodeCursor(cursor: string): { time: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown]
    if (typeof ms === 'number' && Number.isSafeInteger(ms) && typeof id === 'string') return { time: new Date(ms), id }
  } catch {
    // fall through to the error below
  }
  throw new InvalidInput('KEYMINT_INVALID_INPUT', 'cursor is not one this server issued')
}

/** The account's audit log, newest first, a page at a time. */
export async function auditEventRoutes(app: FastifyInstance, deps: ManagementDeps): Promise<void> {
  app.get('/audit-events', {
    config: { requiredScope: 'keymint:audit:read' },
    schema: {
      tags: ['audit'],
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { since: { type: 'string', format: 'date-time' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, cursor: { type: 'string', maxLength: 200 } },
      },
      response: { 200: { type: 'object', additionalProperties: false, properties: { items: { type: 'array', items: auditEvent }, next_cursor: { type: ['string', 'null'] } } }, ...s.errorResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const q = request.query as { since?: string; limit: number; cursor?: string }
    // Newest first; the cursor names the last event shown, the next page starts right after it.
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor)
    const events = await deps.store.audit.list({
      accountId: caller.accountId, limit: q.limit + 1,
      ...(q.since === undefined ? {} : { since: new Date(q.since) }),
      ...(after === undefined ? {} : { after }),
    })
    const page = events.slice(0, q.limit)
    const last = page.at(-1)
    return {
      items: page.map(presentAuditEvent),
      next_cursor: events.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    }
  })
}
