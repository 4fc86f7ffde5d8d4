/**
 * The yardstick for keymint's token path: a minimal client_credentials token server with no
 * database, no throttling and no audit — Fastify + @fastify/formbody + jose + an in-memory map of
 * client_id to secret. `POST /oauth2/token` with client_secret_post returns an RFC 9068-like JWT
 * signed with jose's SignJWT, as JSON shaped like keymint's.
 *
 * Usage: node dist/bench/ideal-server.js <RS256|EdDSA|ES256> <client_id> <client_secret> [port]
 * Prints `ideal listening on <url>` once it listens; SIGTERM closes it.
 */
import { generateKeyPairSync, randomUUID, timingSafeEqual, createHash } from 'node:crypto'
import formbody from '@fastify/formbody'
import Fastify from 'fastify'
import { importPKCS8, SignJWT } from 'jose'

const [algArg, clientId, clientSecret, portArg] = process.argv.slice(2)
if (algArg !== 'RS256' && algArg !== 'ES256' && algArg !== 'EdDSA') throw new Error(`usage: ideal-server.js <RS256|ES256|EdDSA> <client_id> <client_secret> [port]`)
if (!clientId || !clientSecret) throw new Error('client_id and client_secret are required')
const alg = algArg

const { privateKey } = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
  : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('ed25519')
const key = await importPKCS8(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), alg)
const kid = randomUUID()
const LIFETIME_SECONDS = 36_000

/** client_id → SHA-256 of the secret, so comparison is constant-time over equal lengths. */
const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest()
const clients = new Map<string, Buffer>([[clientId, digest(clientSecret)]])

const app = Fastify({ logger: false })
await app.register(formbody)

let issuer = ''
app.post('/oauth2/token', async (request, reply) => {
  const form = (request.body ?? {}) as Record<string, string | undefined>
  if (form.grant_type !== 'client_credentials') {
    return reply.code(400).send({ error: 'unsupported_grant_type' })
  }
  const id = form.client_id
  const expected = id === undefined ? undefined : clients.get(id)
  if (id === undefined || expected === undefined || form.client_secret === undefined
    || !timingSafeEqual(expected, digest(form.client_secret))) {
    return reply.code(401).send({ error: 'invalid_client' })
  }
  const accessToken = await new SignJWT({ client_id: id, scope: 'all' })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuer(issuer)
    .setSubject(id)
    .setAudience(issuer)
    .setIssuedAt()
    .setExpirationTime(`${LIFETIME_SECONDS}s`)
    .setJti(randomUUID())
    .sign(key)
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
  return { access_token: accessToken, token_type: 'Bearer', expires_in: LIFETIME_SECONDS, scope: 'all' }
})

const url = await app.listen({ host: '127.0.0.1', port: Number(portArg ?? 0) })
issuer = url
process.stdout.write(`ideal listening on ${url}\n`)

process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0), () => process.exit(1))
})
