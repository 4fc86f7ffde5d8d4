import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { InvalidInput } from '../../../domain/errors.js'
import { presentAuditEvent } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { AuditEvent } from '../../schemas/management.js'
import { exampleAuditEvent } from '../../schemas/management-examples.js'
import { jsonResponse, Nullable, refTo } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

const PAGE_SIZE = 100

const AuditQuery = Type.Object({
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only events at or after this time.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: PAGE_SIZE, description: 'Events per page.' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: "The previous page's `next_cursor`." })),
}, { additionalProperties: false })

const AuditPage = Type.Object({
  items: Type.Array(refTo(AuditEvent)),
  next_cursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next (older) page; null on the last page.' })),
}, { additionalProperties: false })

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
export async function auditEventRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/audit-events', {
    config: { requiredScope: 'keymint:audit:read' },
    schema: {
      operationId: 'listAuditEvents',
      summary: 'Read the audit log',
      description: "The caller's account's audit events, newest first, a page at a time: changes made through the API or the command line, and refused authentications.",
      tags: ['audit'],
      querystring: AuditQuery,
      response: { 200: jsonResponse('A page of events.', AuditPage, { items: [exampleAuditEvent], next_cursor: null }), ...problemResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const { since, cursor } = request.query
    // The schema's default fills `limit` in; the fallback only satisfies the type.
    const limit = request.query.limit ?? PAGE_SIZE
    // Newest first; the cursor names the last event shown, the next page starts right after it.
    const after = cursor === undefined ? undefined : decodeCursor(cursor)
    const events = await deps.store.audit.list({
      accountId: caller.accountId, limit: limit + 1,
      ...(since === undefined ? {} : { since: new Date(since) }),
      ...(after === undefined ? {} : { after }),
    })
    const page = events.slice(0, limit)
    const last = page.at(-1)
    return {
      items: page.map(presentAuditEvent),
      next_cursor: events.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
    }
  })
}
