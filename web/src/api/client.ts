import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'

export type Schemas = components['schemas']
export type SignedIn = paths['/api/v1/sessions/current']['get']['responses'][200]['content']['application/json']

/** An RFC 9457 problem document, as every /api/v1 error is. */
export interface Problem {
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code?: string
}

let csrfToken: string | undefined
const sessionEndedListeners = new Set<() => void>()

/** The session's CSRF token, from sign-in or GET /api/v1/sessions/current. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token
}

/** Called when a call made with the session cookie is told the session has ended. */
export function onSessionEnded(listener: () => void): () => void {
  sessionEndedListeners.add(listener)
  return () => { sessionEndedListeners.delete(listener) }
}

const session: Middleware = {
  onRequest({ request }) {
    // Every call but GET made with the cookie proves it comes from these pages (the browser adds Origin).
    if (request.method !== 'GET' && csrfToken !== undefined) request.headers.set('x-csrf-token', csrfToken)
    return request
  },
  async onResponse({ request, response }) {
    if (response.status === 401 && !(request.method === 'POST' && new URL(request.url).pathname === '/api/v1/sessions')) {
      const problem = await response.clone().json().catch(() => undefined) as Partial<Problem> | undefined
      if (problem?.code === 'KEYMINT_SESSION_ENDED') for (const listener of sessionEndedListeners) listener()
    }
    return response
  },
}

/** The management API, typed from the OpenAPI document the server builds (schema.d.ts). */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' })
api.use(session)

/** A problem document's fields, or a generic one for a network failure or an unexpected body. */
export function problemOf(error: unknown, response?: Response): Problem {
  if (error && typeof error === 'object' && 'detail' in error && typeof error.detail === 'string') return error as Problem
  return { title: 'error', status: response?.status ?? 0, detail: response ? `The server answered ${response.status}.` : 'The server could not be reached.' }
}

/** A problem's detail for people: the schema's wording of the common cases said plainly. */
export function explain(problem: Problem): string {
  if (/must match format "email"|^invalid email address/.test(problem.detail)) return 'Enter an email address, such as name@example.com.'
  if (/must NOT have fewer than 1 characters/.test(problem.detail)) return 'Fill this in.'
  const detail = problem.detail.replace(/^invalid request: /, '')
  return detail.charAt(0).toUpperCase() + detail.slice(1)
}

/** The fields of a form left empty, each with the message to show under it. */
export function emptyFields<K extends string>(values: Record<K, string>): Partial<Record<K, string>> {
  const errors: Partial<Record<K, string>> = {}
  for (const key of Object.keys(values) as K[]) if (values[key].trim() === '') errors[key] = 'Fill this in.'
  return errors
}

/** The body field a 400 names ("invalid request: body/email must match format …"), if any. */
export function fieldOf(problem: Problem): string | undefined {
  return /\bbody\/([a-z_]+)/.exec(problem.detail)?.[1]
}
