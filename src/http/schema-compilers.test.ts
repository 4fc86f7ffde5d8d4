import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { compilersFactory } from './schema-compilers.js'

const app = () => Fastify({ schemaController: { compilersFactory } })

test('a headers schema names headers as sent; requests carry them lower-cased, and still meet it', { timeout: 10_000 }, async () => {
  const server = app()
  server.get('/', {
    schema: { headers: { type: 'object', properties: { clientId: { type: 'string', minLength: 3 } }, required: ['clientId'] } },
  }, async () => 'ok')
  const missing = await server.inject({ url: '/' })
  assert.equal(missing.statusCode, 400, 'a required header is required')
  assert.equal((await server.inject({ url: '/', headers: { ClientId: 'ab' } })).statusCode, 400, 'its schema applies')
  assert.equal((await server.inject({ url: '/', headers: { clientid: 'abc' } })).statusCode, 200)
  await server.close()
})

test('a headers schema with a keyword that could name a header stops the start', { timeout: 10_000 }, async () => {
  const server = app()
  server.get('/', {
    schema: { headers: { type: 'object', patternProperties: { '^X-': { type: 'string' } } } },
  }, async () => 'ok')
  await assert.rejects(async () => { await server.ready() }, /patternProperties/)
})

test('two apps in one process answer alike with the serializers compiled once', { timeout: 10_000 }, async () => {
  const schema = { response: { 200: { type: 'object', properties: { shown: { type: 'string' } } } } }
  for (let i = 0; i < 2; i++) {
    const server = app()
    server.get('/', { schema }, async () => ({ shown: 'yes', hidden: 'never sent' }))
    assert.equal((await server.inject({ url: '/' })).body, '{"shown":"yes"}')
    await server.close()
  }
})
