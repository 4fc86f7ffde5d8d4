import type { FastifyRequest } from 'fastify'
import type { PresentedSecret } from '../oauth/client-auth/client-secret.js'
import { InvalidClient, InvalidRequest } from '../oauth/errors.js'
import { decodeFormComponent, type FormParams } from './form-body.js'

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

function singleHeader(request: FastifyRequest, name: string): string | undefined {
  const values = request.raw.headersDistinct[name]
  if (values === undefined) return undefined
  if (values.length > 1) throw new InvalidRequest(`the ${name} header must be sent once`)
  return values[0]
}

/** Header dialect: `clientId` and `clientSecret` request headers (names are case-insensitive). */
export function readHeaderCredentials(request: FastifyRequest): PresentedSecret {
  const clientId = singleHeader(request, 'clientid')
  const clientSecret = singleHeader(request, 'clientsecret')
  if (!clientId || !clientSecret) {
    throw new InvalidRequest('the clientId and clientSecret headers are required')
  }
  return { method: 'header', clientId, clientSecret }
}

/**
 * RFC 6749 §2.3.1: HTTP Basic (client_secret_basic) or form fields (client_secret_post),
 * never both. Records the method on the request so a 401 can carry the right challenge.
 */
export function readOAuth2Credentials(request: FastifyRequest, form: FormParams): PresentedSecret {
  const authorization = singleHeader(request, 'authorization')
  if (authorization !== undefined) {
    request.clientAuthMethod = 'client_secret_basic'
    const [scheme, encoded, ...rest] = authorization.trim().split(/\s+/)
    if (scheme?.toLowerCase() !== 'basic' || !encoded || rest.length > 0 || !BASE64.test(encoded)) {
      throw new InvalidRequest('the Authorization header must use the Basic scheme with base64 credentials')
    }
    const decoded = Buffer.from(encoded, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon === -1) throw new InvalidRequest('Basic credentials must be client_id:client_secret')
    // Basic credentials are form-encoded before base64 (RFC 6749 §2.3.1).
    const clientId = decodeFormComponent(decoded.slice(0, colon), 'Basic client_id')
    const clientSecret = decodeFormComponent(decoded.slice(colon + 1), 'Basic client_secret')
    if (form.client_secret !== undefined) {
      throw new InvalidRequest('use one client authentication method: Basic or client_secret, not both')
    }
    if (form.client_id !== undefined && form.client_id !== clientId) {
      throw new InvalidRequest('client_id in the body differs from the one in the Authorization header')
    }
    return { method: 'client_secret_basic', clientId, clientSecret }
  }
  if (form.client_secret !== undefined) {
    request.clientAuthMethod = 'client_secret_post'
    if (form.client_id === undefined) throw new InvalidRequest('client_secret was sent without client_id')
    return { method: 'client_secret_post', clientId: form.client_id, clientSecret: form.client_secret }
  }
  request.clientAuthMethod = 'none'
  throw new InvalidClient('client authentication is required', { detail: 'no credentials presented' })
}
