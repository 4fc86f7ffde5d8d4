import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import openapiTS, { astToString } from 'openapi-typescript'
import ts from 'typescript'
import { startTestServer, tempDir } from '../helpers/server.js'

// The OpenAPI document is generated from the route schemas; these tests hold it to what a
// typed client needs. It does not depend on the database, so SQLite alone serves.

interface Media { schema?: unknown; example?: unknown; examples?: unknown }
interface Operation {
  operationId?: string
  summary?: string
  description?: string
  tags?: string[]
  security?: Record<string, string[]>[]
  requestBody?: { content: Record<string, Media> }
  responses: Record<string, { content?: Record<string, Media> }>
}
// A type alias, not an interface: the validator takes any JSON object.
type Document = {
  openapi: string
  servers: { url: string }[]
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> }
}

const documentOf = async (url: string) => await (await fetch(`${url}/api/v1/openapi.json`)).json() as Document
const operationsOf = (doc: Document) => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, op })))
const hasExample = (content: Record<string, Media> | undefined) => Object.values(content ?? {}).some((m) => m.example !== undefined || m.examples !== undefined)

test('the OpenAPI document is valid OpenAPI 3.1', async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const doc = await documentOf(s.url)
  const validator = new Validator()
  const result = await validator.validate(doc)
  assert.deepEqual(result.errors, undefined)
  assert.equal(result.valid, true)
  assert.equal(validator.version, '3.1')
  assert.deepEqual(doc.servers, [{ url: s.url }])
})

test('every operation has an operationId, a summary, a description and an example', async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const doc = await documentOf(s.url)
  const operations = operationsOf(doc)
  const ids = operations.map(({ op }) => op.operationId)
  assert.equal(new Set(ids).size, ids.length, 'operationIds are unique')
  for (const { name, op } of operations) {
    assert.match(op.operationId ?? '', /^[a-z][A-Za-z]+$/, `${name}: operationId`)
    assert.ok(op.summary, `${name}: summary`)
    assert.ok(op.description, `${name}: description`)
    assert.ok(op.tags?.length, `${name}: tags`)
    assert.ok(hasExample(op.requestBody?.content) || Object.values(op.responses).some((r) => hasExample(r.content)), `${name}: an example`)
    assert.ok(op.security, `${name}: says how to authenticate`)
  }
  for (const path of ['/api/v1/users', '/api/v1/clients/{id}/key-pairs', '/oauth2/token', '/oauth2/introspect', '/oauth2/revoke', '/oauth2/revocations']) {
    assert.ok(doc.paths[path], path)
  }
  for (const hidden of ['/healthz', '/metrics', '/.well-known/jwks.json', '/api/v1/openapi.json', '/oauth2/token/']) assert.equal(doc.paths[hidden], undefined, hidden)
})

test('both security schemes, and the scope each management operation needs', async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const doc = await documentOf(s.url)
  const { bearerAuth, clientBasic, sessionCookie } = doc.components.securitySchemes
  assert.deepEqual([bearerAuth?.type, bearerAuth?.scheme], ['http', 'bearer'])
  assert.deepEqual([clientBasic?.type, clientBasic?.scheme], ['http', 'basic'])
  assert.deepEqual([sessionCookie?.type, sessionCookie?.in, sessionCookie?.name], ['apiKey', 'cookie', 'keymint_session'])
  const sessionOnly = ['/api/v1/sessions', '/api/v1/sessions/current', '/api/v1/sessions/{id}', '/api/v1/me/password', '/api/v1/me/key-pair', '/api/v1/me/second-factor', '/api/v1/me/second-factor/confirm', '/api/v1/me/recovery-codes']
  for (const { name, path, op } of operationsOf(doc)) {
    const schemes = (op.security ?? []).flatMap((requirement) => Object.keys(requirement))
    if (name === 'POST /api/v1/sessions') assert.deepEqual(op.security, [], 'anyone may try to sign in')
    else if (sessionOnly.includes(path)) assert.deepEqual(schemes, ['sessionCookie'], name)
    else if (path.startsWith('/api/v1/')) assert.deepEqual(schemes, ['bearerAuth', 'sessionCookie'], name)
    else if (path.startsWith('/oauth2/')) assert.ok(schemes.includes('clientBasic'), name)
  }
  assert.deepEqual(doc.paths['/api/v1/clients']?.post?.security, [{ bearerAuth: ['keymint:clients:write'] }, { sessionCookie: [] }])
  assert.match(doc.paths['/api/v1/clients']?.post?.description ?? '', /keymint:clients:write/)
  assert.deepEqual(doc.paths['/api/v1/account']?.get?.security, [{ bearerAuth: [] }, { sessionCookie: [] }])
})

test('records are shared components, and errors are described in their own format', async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const doc = await documentOf(s.url)
  for (const name of ['Account', 'User', 'Client', 'KeyPair', 'IssuedKeyPair', 'Api', 'AuditEvent', 'SigningKey', 'Problem', 'OAuthError', 'TokenResponse', 'IntrospectionResponse', 'RevocationFeed']) {
    assert.ok(doc.components.schemas[name], name)
  }
  const created = doc.paths['/api/v1/clients/{id}']?.get?.responses
  assert.deepEqual(created?.['200']?.content?.['application/json']?.schema, { $ref: '#/components/schemas/Client' })
  assert.deepEqual(created?.['404']?.content?.['application/problem+json']?.schema, { $ref: '#/components/schemas/Problem' })
  assert.deepEqual(doc.paths['/oauth2/token']?.post?.responses['401']?.content?.['application/json']?.schema, { $ref: '#/components/schemas/OAuthError' })
  assert.ok(doc.paths['/oauth2/token']?.post?.requestBody?.content['application/x-www-form-urlencoded'], 'token requests are forms')
})

test('openapi-typescript generates types from the document that compile and read well', async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const doc = await documentOf(s.url)
  const types = astToString(await openapiTS(doc as unknown as Parameters<typeof openapiTS>[0]))
  const dir = tempDir(t)
  writeFileSync(join(dir, 'api.d.ts'), types)
  // What an integration would write against the generated types; a wrong type is a compile error.
  writeFileSync(join(dir, 'client.ts'), `
import type { components, operations, paths } from './api.js'
type Created = paths['/api/v1/clients']['post']['responses'][201]['content']['application/json']
export const keyPairId = (c: Created): string => c.key_pair.client_id
export const secret = (c: Created): string | undefined => c.key_pair.client_secret
export const clientId = (c: components['schemas']['Client']): string => c.id
type Token = operations['requestToken']['responses'][200]['content']['application/json']
export const tokenType = (t: Token): 'Bearer' | 'DPoP' => t.token_type
export const level: components['schemas']['Client']['level'] = 'subscription'
// @ts-expect-error levels are an enum
export const wrongLevel: components['schemas']['Client']['level'] = 'admin'
type NewClient = NonNullable<operations['createClient']['requestBody']>['content']['application/json']
export const newClient: NewClient = { name: 'billing', level: 'user', user_id: '5e8a1d2c-7b4f-4c39-a0e6-1f2d3c4b5a69' }
type Problem = operations['getClient']['responses'][404]['content']['application/problem+json']
export const code = (p: Problem): string | undefined => p.code
type TokenForm = NonNullable<operations['requestToken']['requestBody']>['content']['application/x-www-form-urlencoded']
export const form: TokenForm = { grant_type: 'client_credentials', scope: 'orders:read' }
`)
  const program = ts.createProgram([join(dir, 'client.ts')], {
    strict: true, noEmit: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [],
  })
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  assert.deepEqual(diagnostics, [])
})

test('the reference page renders the document from local assets only', async (t) => {
  const s = await startTestServer(t, 'sqlite')
  const page = await fetch(`${s.url}/api/v1/docs`)
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/)
  const html = await page.text()
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i, 'no scripts, stylesheets or images to load')
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'nothing from another host')
  assert.match(html, /rotateKeyPair/)
  assert.match(html, /Rotate a client&#39;s key pair/)
  assert.match(html, /clientBasic/)
})
