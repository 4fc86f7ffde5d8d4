import type { FastifyRequest } from 'fastify'
import type { PresentedCredentials } from '../oauth/client-auth/authenticate-client.js'
import type { PresentedSecret } from '../oauth/client-auth/client-secret.js'
import { JWT_BEARER_ASSERTION } from '../oauth/client-auth/private-key-jwt.js'
import { InvalidClient, InvalidDPoPProof, InvalidRequest, type OAuthError } from '../oauth/errors.js'
import { decodeFormComponent } from './form-body.js'
import type { ClientAuthenticationFields } from './schemas/oauth.js'

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

function singleHeader(request: FastifyRequest, name: string, repeated: () => OAuthError = () => new InvalidRequest(`the ${name} header must be sent once`)): string | undefined {
  const value = request.headers[name]
  if (value === undefined) return undefined
  // Node keeps the first of a repeated Authorization and joins repeats of other headers with ", ":
  // count the raw lines instead (no per-request copy of every header, as headersDistinct makes).
  const raw = request.raw.rawHeaders
  let seen = 0
  for (let i = 0; i < raw.length; i += 2) {
    const header = raw[i]!
    if (header.length === name.length && header.toLowerCase() === name && ++seen > 1) throw repeated()
  }
  return Array.isArray(value) ? value[0] : value
}

/** RFC 9449 §4.3: the `DPoP` proof, when the request carries one; two of them are no proof. */
export function readDPoPProof(request: FastifyRequest): string | undefined {
  // The common case, no proof at all, costs one property read.
  if (request.headers.dpop === undefined) return undefined
  return singleHeader(request, 'dpop', () => new InvalidDPoPProof('send exactly one DPoP header', { detail: 'header_repeated' }))
}

// Every `client_id` read here (a header, Basic credentials, a form field) is a key pair's id
// (`KeyPairId`), never a client's own id: a client has several key pairs, each its own client_id.

/** Header dialect: `clientId` and `clientSecret` request headers (names are case-insensitive). */
export function readHeaderCredentials(request: FastifyRequest): PresentedSecret {
  const keyPairId = singleHeader(request, 'clientid')
  const clientSecret = singleHeader(request, 'clientsecret')
  if (!keyPairId || !clientSecret) {
    throw new InvalidRequest('the clientId and clientSecret headers are required')
  }
  return { method: 'header', clientId: keyPairId, clientSecret }
}

/**
 * RFC 6749 §2.3.1: HTTP Basic (client_secret_basic) or form fields (client_secret_post), or
 * RFC 7523 client assertions (private_key_jwt); exactly one method per request. Records the
 * method on the request so a 401 can carry the right challenge.
 */
export function readOAuth2Credentials(request: FastifyRequest, form: ClientAuthenticationFields): PresentedCredentials {
  const authorization = singleHeader(request, 'authorization')
  if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
    request.clientAuthMethod = 'private_key_jwt'
    if (authorization !== undefined || form.client_secret !== undefined) {
      throw new InvalidRequest('use one client authentication method: a client assertion, Basic or client_secret')
    }
    if (form.client_assertion_type !== JWT_BEARER_ASSERTION) {
      throw new InvalidRequest(`client_assertion_type must be ${JWT_BEARER_ASSERTION}`)
    }
    if (!form.client_assertion) throw new InvalidRequest('client_assertion is required with client_assertion_type')
    return { method: 'private_key_jwt', clientId: form.client_id, assertion: form.client_assertion }
  }
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
    const keyPairId = decodeFormComponent(decoded.slice(0, colon), 'Basic client_id')
    const clientSecret = decodeFormComponent(decoded.slice(colon + 1), 'Basic client_secret')
    if (form.client_secret !== undefined) {
      throw new InvalidRequest('use one client authentication method: Basic or client_secret, not both')
    }
    if (form.client_id !== undefined && form.client_id !== keyPairId) {
      throw new InvalidRequest('client_id in the body differs from the one in the Authorization header')
    }
    return { method: 'client_secret_basic', clientId: keyPairId, clientSecret }
  }
  if (form.client_secret !== undefined) {
    request.clientAuthMethod = 'client_secret_post'
    if (form.client_id === undefined) throw new InvalidRequest('client_secret was sent without client_id')
    return { method: 'client_secret_post', clientId: form.client_id, clientSecret: form.client_secret }
  }
  request.clientAuthMethod = 'none'
  throw new InvalidClient('client authentication is required', { detail: 'no credentials presented' })
}
