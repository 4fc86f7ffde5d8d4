import type { FastifyInstance } from 'fastify'

export interface HealthDeps {
  /** Resolves when the database answers; rejects otherwise. */
  readonly ping: () => Promise<void>
}

/** `/healthz`: the process is alive. `/readyz`: it can serve tokens (its database answers). */
export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (request, reply) => {
    try {
      await deps.ping()
      return { status: 'ready' }
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed')
      return reply.status(503).send({ status: 'unavailable', reason: 'database unreachable' })
    }
  })
}
