import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { withServer } from '../openapi.js'
import { renderReference, type ReferenceDocument } from '../reference-page.js'
import { REFERENCE_PAGE_POLICY } from '../security-headers.js'

/** GET /api/v1/openapi.json and its rendering at /api/v1/docs; open to anyone, like the routes they describe. */
export async function apiReferenceRoutes(fastify: FastifyInstance, deps: { readonly issuer: () => string }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const document = () => withServer(app.swagger(), deps.issuer())
  app.get('/api/v1/openapi.json', {
    schema: { hide: true, response: { 200: Type.Unsafe<object>({ type: 'object', additionalProperties: true }) } },
  }, async () => document())
  app.get('/api/v1/docs', {
    schema: { hide: true, response: { 200: { description: 'The reference page.', content: { 'text/html': { schema: Type.String() } } } } },
  }, async (_request, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', REFERENCE_PAGE_POLICY).send(renderReference(document() as ReferenceDocument)))
}
