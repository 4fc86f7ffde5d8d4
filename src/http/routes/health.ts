import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { StringEnum } from '../schemas/schema-helpers.js'

export interface HealthDeps {
  /** Resolves when the database answers; rejects otherwise. */
  readonly ping: () => Promise<void>
}

const status = <const S extends string>(value: S) => Type.Object({ status: StringEnum([value]) }, { additionalProperties: false })

/** `/healthz`: the process is alive. `/readyz`: it can serve tokens (its database answers). */
export async function healthRoutes(fastify: FastifyInstance, deps: HealthDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  // Probes for orchestrators, not part of the API document.
  app.get('/healthz', { schema: { hide: true, response: { 200: status('ok') } } }, async () => ({ status: 'ok' as const }))
  app.get('/readyz', {
    schema: {
      hide: true,
      response: {
        200: status('ready'),
        503: Type.Object({ status: StringEnum(['unavailable']), reason: Type.String() }, { additionalProperties: false }),
      },
    },
  }, async (request, reply) => {
    try {
      await deps.ping()
      return { status: 'ready' as const }
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed')
      return reply.status(503).send({ status: 'unavailable', reason: 'database unreachable' })
    }
  })
}
