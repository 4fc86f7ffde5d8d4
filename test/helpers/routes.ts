import type { FastifyInstance } from 'fastify'

export interface RouteOf { readonly method: string; readonly url: string }

const LINE = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/u

/**
 * Every method and route pattern an app answers, read from Fastify's route tree (it keeps no
 * list): each line is a path segment, indented four characters per level under its parent.
 */
export function routesOf(app: FastifyInstance): RouteOf[] {
  const tree = app.printRoutes({ commonPrefix: false })
  const prefixes: string[] = []
  const routes: RouteOf[] = []
  for (const line of tree.split('\n').filter((l) => l.trim() !== '')) {
    const match = LINE.exec(line)
    if (!match?.[2]) throw new Error(`cannot read this line of Fastify's route tree: ${JSON.stringify(line)}`)
    const depth = (match[1] ?? '').length / 4
    const parent = depth === 0 ? '' : prefixes[depth - 1]
    if (parent === undefined) throw new Error(`a route tree line without a parent: ${JSON.stringify(line)}`)
    const url = depth === 1 && parent === '/' ? `/${match[2]}` : parent + match[2]
    prefixes[depth] = url
    prefixes.length = depth + 1
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url })
  }
  return routes
}
