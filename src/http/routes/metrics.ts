import { createHash, timingSafeEqual } from 'node:crypto'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, onResponseHookHandler } from 'fastify'
import { Type } from 'typebox'
import type { Metrics } from '../../runtime/metrics.js'
import { OAuthErrorBody } from '../schemas/errors.js'
import { refTo } from '../schemas/schema-helpers.js'

export interface MetricsRouteDeps {
  readonly metrics: Metrics
  /** When set, scrapes must send `Authorization: Bearer <token>`. */
  readonly bearerToken: string | undefined
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** An onResponse hook that times every request by method, route pattern and status. */
export function timeRequests(metrics: Metrics): onResponseHookHandler {
  return (request, reply, done) => {
    // The pattern, never the raw URL: unmatched paths must not create series.
    metrics.requestDuration.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
    done()
  }
}

/** `GET /metrics`: the Prometheus text exposition. */
export async function metricsRoutes(fastify: FastifyInstance, deps: MetricsRouteDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { metrics } = deps
  const expected = deps.bearerToken === undefined ? undefined : digest(deps.bearerToken)
  app.get('/metrics', {
    // For Prometheus, not part of the API document.
    schema: {
      hide: true,
      response: {
        200: { description: 'The Prometheus text exposition.', content: { 'text/plain': { schema: Type.String() } } },
        401: { description: 'The metrics bearer token is missing or wrong.', content: { 'application/json': { schema: refTo(OAuthErrorBody) } } },
      },
    },
  }, async (request, reply) => {
    if (expected !== undefined) {
      const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')
      // Digests of equal length, so the comparison takes the same time whatever was sent.
      if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
        return reply.status(401).header('www-authenticate', 'Bearer realm="metrics"')
          .send({ error: 'invalid_token', error_description: 'a valid metrics bearer token is required' })
      }
    }
    return reply.type(metrics.contentType).send(await metrics.exposition())
  })
}
