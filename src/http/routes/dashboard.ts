import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { packagePath } from '../../package-files.js'
import { dashboardPagePolicy } from '../security-headers.js'

export interface DashboardOptions {
  /** The built dashboard (`vite build` output); by default the package's dist/web. */
  readonly root?: string
}

/** The dashboard's built files: dist/web in the package. */
const BUILT_DASHBOARD = packagePath('dist', 'web')

// Paths the dashboard never answers: their surfaces keep their own 404s (and 405s).
const NOT_THE_DASHBOARD = /^\/(?:api|oauth2|auth|\.well-known)(?:\/|$)/

// Vite names what it builds under assets/ by content hash: a new build is a new URL, so a
// browser may keep these for good. Everything else (the icon) is revalidated on every load,
// the page itself too, which names the hashed files of the current build.
const HASHED = 'public, max-age=31536000, immutable'
const REVALIDATE = 'no-cache'

function filesUnder(root: string, dir = root, files = new Set<string>()): Set<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) filesUnder(root, path, files)
    else if (entry.isFile()) files.add(relative(root, path).split(sep).join('/'))
  }
  return files
}

/**
 * The web dashboard at `/`: its files, and its page for every other path that is not an API
 * or OAuth surface, so that a deep link such as /settings/integrations/api opens the app.
 */
export async function dashboardRoutes(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const root = options.root ?? BUILT_DASHBOARD
  if (!existsSync(join(root, 'index.html'))) {
    // A server built without its dashboard (tsc alone) still serves everything else.
    app.get('/', { schema: { hide: true } }, (_request, reply) => reply.status(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store')
      .send('The dashboard is not built: run `npm run build`.\n'))
    return
  }
  // The files are fixed at build time: read the list once.
  const files = filesUnder(root)
  await app.register(fastifyStatic, { root, serve: false })
  const html = readFileSync(join(root, 'index.html'), 'utf8')

  // Each load of the page gets a nonce of its own for the few styles its components add (see
  // dashboardPagePolicy); without a validator, revalidating it is loading it anew.
  const page = (reply: FastifyReply) => {
    const nonce = randomBytes(16).toString('base64')
    return reply.header('cache-control', REVALIDATE).header('content-security-policy', dashboardPagePolicy(nonce))
      .type('text/html; charset=utf-8')
      .send(html.replace('<head>', `<head>\n    <meta name="csp-nonce" nonce="${nonce}">`))
  }

  app.get('/', { schema: { hide: true } }, (_request, reply) => page(reply))
  app.get('/*', { schema: { hide: true } }, (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    const path = request.url.split('?')[0] ?? ''
    if (NOT_THE_DASHBOARD.test(path)) return reply.callNotFound()
    const file = request.params['*']
    if (files.has(file) && file !== 'index.html') {
      return reply.header('cache-control', file.startsWith('assets/') ? HASHED : REVALIDATE).sendFile(file, { cacheControl: false })
    }
    // A missing script or stylesheet must not be answered with the page.
    if (file.startsWith('assets/')) return reply.callNotFound()
    return page(reply)
  })
}
