import { InvalidRequest } from '../oauth/errors.js'

/** RFC 8707 `resource`, or its common alias `audience`; both at once must agree. */
export function requestedResource(form: { readonly resource?: string; readonly audience?: string }): { resource?: string } {
  const { resource, audience } = form
  if (resource !== undefined && audience !== undefined && resource !== audience) {
    throw new InvalidRequest('resource and audience name different APIs; send one')
  }
  const value = resource ?? audience
  return value === undefined ? {} : { resource: value }
}
