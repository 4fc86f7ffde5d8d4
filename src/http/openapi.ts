import type { RouteOptions } from 'fastify'

interface RouteSchema {
  readonly tags?: readonly string[]
  readonly body?: object
  readonly params?: { properties?: Record<string, object>; required?: readonly string[] }
  readonly querystring?: { properties?: Record<string, object>; required?: readonly string[] }
  readonly response?: Record<string, object>
}

const parameters = (where: 'path' | 'query', schema: RouteSchema['params']) =>
  Object.entries(schema?.properties ?? {}).map(([name, s]) => ({ name, in: where, required: where === 'path' || (schema?.required ?? []).includes(name), schema: s }))

/**
 * OpenAPI 3.1 built from the same JSON Schemas Fastify validates and serializes with, so the
 * document cannot drift from what the server does.
 */
export function buildOpenApi(routes: readonly RouteOptions[], info: { title: string; version: string; server: string }): object {
  const paths: Record<string, Record<string, object>> = {}
  for (const route of routes) {
    const schema = (route.schema ?? {}) as RouteSchema
    const path = route.url.replace(/:(\w+)/g, '{$1}')
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue
      const responses: Record<string, object> = {}
      for (const [status, body] of Object.entries(schema.response ?? {})) {
        const type = status.startsWith('2') ? 'application/json' : 'application/problem+json'
        responses[status] = { description: status.startsWith('2') ? 'success' : 'error (RFC 9457 problem)', content: { [type]: { schema: body } } }
      }
      const requiredScope = (route.config as { requiredScope?: string } | undefined)?.requiredScope
      paths[path] ??= {}
      paths[path][method.toLowerCase()] = {
        tags: schema.tags ?? [],
        ...(requiredScope ? { description: `Needs the \`${requiredScope}\` scope (or \`keymint:admin\`).` } : {}),
        parameters: [...parameters('path', schema.params), ...parameters('query', schema.querystring)],
        // A body whose every field is optional may be left out (it reads as `{}`).
        ...(schema.body ? { requestBody: { required: ((schema.body as { required?: unknown[] }).required?.length ?? 0) > 0, content: { 'application/json': { schema: schema.body } } } } : {}),
        responses,
        security: [{ bearer: requiredScope ? [requiredScope] : [] }],
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version },
    servers: [{ url: info.server }],
    paths,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (a keymint access token with keymint: scopes)' } } },
  }
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)

/** A self-contained reference page (no scripts, no external assets) rendered from the document. */
export function renderReference(doc: { info: { title: string }; paths: Record<string, Record<string, { tags: string[]; description?: string; requestBody?: unknown; responses: Record<string, unknown> }>> }): string {
  const rows = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) =>
    `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(op.tags.join(', '))}</td><td>${escape(op.description ?? '')}</td><td>${Object.keys(op.responses).join(' ')}</td></tr>`))
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}code{font-size:14px}</style></head>
<body><h1>${escape(doc.info.title)}</h1><p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1). Authenticate with <code>Authorization: Bearer &lt;keymint access token&gt;</code>; errors are RFC 9457 problem documents.</p>
<table><thead><tr><th>method</th><th>path</th><th>tags</th><th>needs</th><th>responses</th></tr></thead><tbody>${rows.join('')}</tbody></table></body></html>`
}
