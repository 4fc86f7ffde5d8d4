import { InvalidRequest } from '../oauth/errors.js'

export type FormParams = Readonly<Record<string, string>>

/**
 * Strict `application/x-www-form-urlencoded` parsing for the token endpoints: malformed
 * percent-encoding and repeated parameters are errors (RFC 6749 §3.2: "Request and response
 * parameters MUST NOT be included more than once"), not silently fixed up.
 */
export function parseFormBody(body: string): FormParams {
  const params: Record<string, string> = Object.create(null) as Record<string, string>
  if (body.length === 0) return params
  for (const pair of body.split('&')) {
    if (pair.length === 0) continue
    const eq = pair.indexOf('=')
    const name = decodeFormComponent(eq === -1 ? pair : pair.slice(0, eq))
    const value = eq === -1 ? '' : decodeFormComponent(pair.slice(eq + 1))
    if (name in params) throw new InvalidRequest(`parameter ${JSON.stringify(name.slice(0, 64))} is included more than once`)
    params[name] = value
  }
  return params
}

export function decodeFormComponent(text: string, where = 'request body'): string {
  // Most parameters (ids, secrets, grant types) are plain: nothing to decode.
  if (!text.includes('%') && !text.includes('+')) return text
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch (err) {
    throw new InvalidRequest(`${where} is not valid form encoding`, { cause: err })
  }
}
