/**
 * node-oidc-provider as a peer for keymint's OAuth 2.0 dialect: client_credentials only, one
 * static client authenticating with client_secret_post, and JWT access tokens (RFC 9068) for one
 * resource server chosen with a resource indicator (RFC 8707). The RS256 signing key is generated
 * at start; tokens of the JWT format are not stored, so the in-memory adapter stays small.
 *
 * Usage: node dist/bench/oidc-provider-server.js <client_id> <client_secret> <resource URL> [port]
 * Requests: POST /token with grant_type=client_credentials, client_id, client_secret, resource
 * and scope=api. Prints `oidc-provider listening on <url>` once it listens; SIGTERM closes it.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider from 'oidc-provider'

const [clientId, clientSecret, resource, portArg] = process.argv.slice(2)
if (!clientId || !clientSecret || !resource) throw new Error('usage: oidc-provider-server.js <client_id> <client_secret> <resource URL> [port]')

const LIFETIME_SECONDS = 36_000
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', use: 'sig', alg: 'RS256' }

const server = createServer()
await new Promise<void>((resolve, reject) => {
  server.once('error', reject)
  server.listen(Number(portArg ?? 0), '127.0.0.1', () => resolve())
})
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

const provider = new Provider(url, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'api',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['api'],
  ttl: { ClientCredentials: LIFETIME_SECONDS },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx: unknown, indicator: string) => {
        if (indicator !== resource) throw new Error(`unknown resource ${indicator}`)
        return {
          scope: 'api',
          audience: resource,
          accessTokenTTL: LIFETIME_SECONDS,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }
      },
    },
  },
})
provider.on('server_error', (_ctx: unknown, err: unknown) => {
  process.stderr.write(`server_error: ${err instanceof Error ? err.stack : String(err)}\n`)
})
server.on('request', provider.callback())
process.stdout.write(`oidc-provider listening on ${url}\n`)

process.once('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
