// The reference page at /api/v1/docs: plain HTML rendered from the OpenAPI document, with its
// styles inline. No scripts and nothing fetched from elsewhere, so it works offline and under
// any Content-Security-Policy.

interface Schema {
  readonly $ref?: string
  readonly type?: string | readonly string[]
  readonly enum?: readonly unknown[]
  readonly items?: Schema
  readonly description?: string
  readonly properties?: Readonly<Record<string, Schema>>
  readonly required?: readonly string[]
}

interface Media { readonly schema?: Schema; readonly example?: unknown }

interface Operation {
  readonly operationId?: string
  readonly summary?: string
  readonly description?: string
  readonly tags?: readonly string[]
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[]
  readonly parameters?: readonly { name: string; in: string; required?: boolean; description?: string; schema?: Schema }[]
  readonly requestBody?: { required?: boolean; content: Readonly<Record<string, Media>> }
  readonly responses: Readonly<Record<string, { description?: string; content?: Readonly<Record<string, Media>> }>>
}

export interface ReferenceDocument {
  readonly info: { title: string; version: string; description?: string }
  readonly tags?: readonly { name: string; description?: string }[]
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>
  readonly components?: { securitySchemes?: Readonly<Record<string, { description?: string }>> }
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
/** Descriptions use `code` spans; nothing else of Markdown. */
const prose = (s: string | undefined) => escape(s ?? '').replace(/`([^`]+)`/g, '<code>$1</code>')

function typeOf(schema: Schema | undefined): string {
  if (!schema) return ''
  if (schema.$ref) return schema.$ref.split('/').at(-1) ?? ''
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ')
  const types = [schema.type ?? 'any'].flat()
  return types.map((t) => (t === 'array' ? `${typeOf(schema.items)}[]` : t)).join(' | ')
}

function fields(schema: Schema | undefined): string {
  const entries = Object.entries(schema?.properties ?? {})
  if (entries.length === 0) return ''
  const rows = entries.map(([name, s]) => `<tr><td><code>${escape(name)}</code>${schema?.required?.includes(name) ? ' <em>required</em>' : ''}</td><td><code>${escape(typeOf(s))}</code></td><td>${prose(s.description)}</td></tr>`)
  return `<table><tbody>${rows.join('')}</tbody></table>`
}

function example(content: Readonly<Record<string, Media>> | undefined): string {
  const [type, media] = Object.entries(content ?? {})[0] ?? []
  if (!type || !media) return ''
  const shown = media.example === undefined ? '' : `<pre>${escape(typeof media.example === 'string' ? media.example : JSON.stringify(media.example, null, 2))}</pre>`
  return `<p><code>${escape(type)}</code> <code>${escape(typeOf(media.schema))}</code></p>${shown}`
}

function operation(path: string, method: string, op: Operation): string {
  const security = (op.security ?? []).map((s) => Object.entries(s).map(([name, scopes]) => `${name}${scopes.length ? ` (${scopes.join(', ')})` : ''}`).join(' + ') || 'none').join(' or ')
  const parameters = (op.parameters ?? []).map((p) => `<li><code>${escape(p.name)}</code> (${escape(p.in)}${p.required ? ', required' : ''}): <code>${escape(typeOf(p.schema))}</code> ${prose(p.description)}</li>`)
  const body = op.requestBody
  const bodySchema = body ? Object.values(body.content)[0]?.schema : undefined
  const responses = Object.entries(op.responses).map(([status, r]) => `<li><b>${escape(status)}</b> ${prose(r.description)}</li>`)
  const success = Object.entries(op.responses).find(([status]) => status.startsWith('2'))?.[1]
  return `<section id="${escape(op.operationId ?? `${method}-${path}`)}"><h3><code>${method.toUpperCase()} ${escape(path)}</code> ${prose(op.summary)}</h3>
<p>${prose(op.description)}</p>
<p><small>operationId <code>${escape(op.operationId ?? '')}</code>${security ? ` · security: ${escape(security)}` : ''}</small></p>
${parameters.length ? `<h4>Parameters</h4><ul>${parameters.join('')}</ul>` : ''}
${body ? `<h4>Request body${body.required ? '' : ' (optional)'}</h4>${example(body.content)}${fields(bodySchema)}` : ''}
<h4>Responses</h4><ul>${responses.join('')}</ul>${success ? example(success.content) : ''}</section>`
}

/** A self-contained reference page (no scripts, no external assets) rendered from the document. */
export function renderReference(doc: ReferenceDocument): string {
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })))
  const sections = (doc.tags ?? []).map((tag) => {
    const ofTag = operations.filter(({ op }) => op.tags?.includes(tag.name))
    if (ofTag.length === 0) return ''
    return `<h2>${escape(tag.name)}</h2><p>${prose(tag.description)}</p>${ofTag.map(({ path, method, op }) => operation(path, method, op)).join('')}`
  })
  const schemes = Object.entries(doc.components?.securitySchemes ?? {}).map(([name, s]) => `<li><code>${escape(name)}</code>: ${prose(s.description)}</li>`)
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(doc.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem}h3{margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}table{border-collapse:collapse;width:100%}td{border-bottom:1px solid #eee;padding:.3rem;vertical-align:top}code{font-size:14px}pre{background:#f6f6f6;padding:.6rem;overflow:auto}</style></head>
<body><h1>${escape(doc.info.title)} <small>${escape(doc.info.version)}</small></h1><p>${prose(doc.info.description)}</p>
<p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI 3.1).</p>
<h2>Authentication</h2><ul>${schemes.join('')}</ul>
${sections.join('\n')}</body></html>`
}
