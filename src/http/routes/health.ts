import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { StringEnum } from '../schemas/schema-helpers.js'

/** Whether the instance can serve, and if not fully, why. */
export type Readiness =
  | { readonly status: 'ready' }
  /** Serving only part of its work (tokens for key pairs held in memory); `reason` says what and until when. */
  | { readonly status: 'degraded'; readonly reason: string }
  | { readonly status: 'unavailable'; readonly reason: string }

export interface HealthDeps {
  /** Asks the database now and tells what the instance can serve. */
  readonly readiness: () => Promise<Readiness>
}

const status = <const S extends string>(value: S) => Type.Object({ status: StringEnum([value]) }, { additionalProperties: false })
const explained = <const S extends string>(value: S) => Type.Object({ status: StringEnum([value]), reason: Type.String() }, { additionalProperties: false })

/**
 * `/healthz`: the process is alive. `/readyz`: it can serve tokens — 200 `ready` with its database
 * answering, 200 `degraded` (with the reason) while the database is out of reach but key pairs
 * held in memory still get tokens, 503 `unavailable` (with the reason) otherwise.
 */
export async function healthRoutes(fastify: FastifyInstance, deps: HealthDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // Probes for orchestrators, not part of the API document.
  app.get('/healthz', { schema: { hide: true, response: { 200: status('ok') } } }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', {
    schema: {
      hide: true,
      response: {
        200: Type.Union([status('ready'), explained('degraded')]),
        503: explained('unavailable'),
      },
    },
  }, async (request, reply) => {
    const readiness = await deps.readiness()
    if (readiness.status === 'ready') return readiness
    request.log.warn({ reason: readiness.reason }, `readiness: ${readiness.status}`)
    return reply.status(readiness.status === 'degraded' ? 200 : 503).header('cache-control', 'no-store').send(readiness)
  })
}
