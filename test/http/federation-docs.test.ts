import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { createClient } from '../../src/domain/clients.js'
import { createFederationPolicy } from '../../src/domain/federation-policies.js'
import { createVerifier } from '../../src/verify/index.js'
import { listen } from '../client/fixtures.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { OidcIssuer } from '../helpers/oidc-issuer.js'
import { seedClient, startTestServer, tempDir } from '../helpers/server.js'
import { verifyAccessToken } from '../helpers/tokens.js'

const run = promisify(execFile)
const DOC = readFileSync(new URL('../../../docs/federation.md', import.meta.url), 'utf8')

/** The `run: |` script of the workflow step named `step`, as a runner would execute it. */
function workflowStep(step: string): string {
  const lines = DOC.split('\n')
  const at = lines.findIndex((l) => l.trim() === `- name: ${step}`)
  const runAt = lines.findIndex((l, i) => i > at && l.trim() === 'run: |')
  const indent = lines[runAt + 1]!.length - lines[runAt + 1]!.trimStart().length
  const body: string[] = []
  for (const line of lines.slice(runAt + 1)) {
    if (line.trim() !== '' && line.length - line.trimStart().length < indent) break
    body.push(line.slice(indent))
  }
  return body.join('\n')
}

/** The first ```<lang> block after `heading` that contains `marker`. */
function codeBlock(heading: string, marker: string, lang = 'sh'): string {
  const section = DOC.slice(DOC.indexOf(heading))
  const blocks = [...section.matchAll(new RegExp(`\`\`\`${lang}\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!)
  const block = blocks.find((b) => b.includes(marker))
  assert.ok(block, `a ${lang} block with ${marker} under ${heading}`)
  return block
}
describeEachDialect('docs/federation.md works by copy-paste', (dialect) => {
  test("the GitHub Actions step and the Kubernetes pod's curl get keymint tokens", async (t) => {
    const s = await startTestServer(t, dialect, { federationAllowLoopback: 'true' })
    const platform = await OidcIssuer.start(t, { now: () => s.clock.now() })
    const seed = await seedClient(s.services)
    const trust = (input: { audience: string; subject: string; claims?: Record<string, string> }) =>
      createFederationPolicy({ ...s.services, federation: s.config.federation }, { accountId: seed.accountId, clientId: seed.clientRecordId, issuer: platform.url, ...input })
    await trust({ audience: s.url, subject: 'repo:acme/deploy:ref:refs/heads/main' })
    await trust({ audience: 'keymint', subject: 'system:serviceaccount:billing:sync', claims: { 'kubernetes.io/namespace': 'billing' } })
    const dir = tempDir(t)

    const githubEnv = join(dir, 'github_env')
    writeFileSync(githubEnv, '')
    const { stdout } = await run('bash', ['-e', '-c', workflowStep('Get a keymint access token')], {
      env: {
        PATH: process.env.PATH, KEYMINT_URL: s.url, GITHUB_ENV: githubEnv,
        ACTIONS_ID_TOKEN_REQUEST_URL: platform.actionsRequestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: platform.actionsRequestToken,
      },
    })
    assert.match(stdout, /^::add-mask::ey/, 'the token is masked in the log')
    const token = /^ACCESS_TOKEN=(\S+)$/m.exec(readFileSync(githubEnv, 'utf8'))?.[1]
    assert.ok(token, 'ACCESS_TOKEN in $GITHUB_ENV')
    const { payload } = await verifyAccessToken(s.url, token)
    assert.deepEqual(payload.act, { iss: platform.url, sub: 'repo:acme/deploy:ref:refs/heads/main' })
    assert.equal(platform.requests.actions, 1)

    const tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, await platform.kubernetes('keymint'))
    const pod = await run('bash', ['-e', '-c', codeBlock('## Kubernetes', 'KEYMINT_PLATFORM_TOKEN_FILE')], {
      env: { PATH: process.env.PATH, KEYMINT_URL: s.url, KEYMINT_PLATFORM_TOKEN_FILE: tokenFile },
    })
    const answer = JSON.parse(pod.stdout) as { access_token: string; issued_token_type: string }
    assert.equal(answer.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token')
    assert.deepEqual((await verifyAccessToken(s.url, answer.access_token)).payload.act, { iss: platform.url, sub: 'system:serviceaccount:billing:sync' })
  })

  test('the keymint/client example with dpop gets a DPoP-bound token from a pod\'s token file and calls an API with it', async (t) => {
    // A client that takes bound tokens only, and nonces required: the example must cope with both.
    const s = await startTestServer(t, dialect, { federationAllowLoopback: 'true', dpopNonceRequired: 'true', dpopClockSkew: '60s' })
    const cluster = await OidcIssuer.start(t, { now: () => s.clock.now() })
    const seed = await seedClient(s.services)
    const { client } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
      accountId: seed.accountId, name: 'sync', level: 'subscription', requireDPoP: true,
    })
    await createFederationPolicy({ ...s.services, federation: s.config.federation }, {
      accountId: seed.accountId, clientId: client.id, issuer: cluster.url, audience: 'keymint', subject: 'system:serviceaccount:billing:sync',
    })
    // The example runs in its own process on the real clock.
    const verifier = createVerifier({ issuer: s.url, audience: s.url })
    t.after(() => verifier.close())
    const calls: { scheme: string; act: unknown; jkt: string | undefined }[] = []
    const api = await listen(t, async (req, res) => {
      const token = await verifier.verifyRequest({ authorization: req.headers.authorization, dpop: req.headers.dpop, method: req.method ?? 'GET', url: `http://${req.headers.host}${req.url}` })
      calls.push({ scheme: (req.headers.authorization ?? '').split(' ')[0]!, act: token.claims.act, jkt: token.jkt })
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]')
    })
    const tokenFile = join(tempDir(t), 'token')
    writeFileSync(tokenFile, await cluster.kubernetes('keymint'))
    const example = codeBlock('## DPoP-bound tokens', 'dpop: true', 'ts')
      .replace("'keymint/client'", JSON.stringify(new URL('../../src/client/index.js', import.meta.url).href))
      .replaceAll('https://api.example.com', api)
    await run(process.execPath, ['--input-type=module', '-e', `${example}\nif (res.status !== 200) process.exit(1)\n`], {
      env: { PATH: process.env.PATH, KEYMINT_URL: s.url, KEYMINT_PLATFORM_TOKEN_FILE: tokenFile },
    })
    assert.equal(calls.length, 1)
    assert.equal(calls[0]!.scheme, 'DPoP')
    assert.ok(calls[0]!.jkt, 'the token is bound to the example\'s key')
    assert.deepEqual(calls[0]!.act, { iss: cluster.url, sub: 'system:serviceaccount:billing:sync' })
  })
})
