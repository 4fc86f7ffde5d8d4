import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { packLibrary } from '../../scripts/pack-libraries.js'
import { seedClient, startTestServer, tempDir } from '../helpers/server.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const run = promisify(execFile)
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 32 * 1024 * 1024 })

interface LockEntry { version: string; resolved?: string; integrity?: string; license?: string; engines?: object }

/** jose's entry in this checkout's lock file: what the libraries' one dependency resolves to offline. */
function joseEntry(): LockEntry {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
  const entry = lock.packages['node_modules/jose']
  assert.ok(entry, 'jose is locked')
  return { ...entry, resolved: entry.resolved ?? `https://registry.npmjs.org/jose/-/jose-${entry.version}.tgz` }
}

// A project that only gets tokens and checks them installs keymint-client and keymint-verify: its
// installed tree is those two and jose, nothing of the server; and they work against a real server.
test('keymint-client and keymint-verify install with jose alone, type-check, and get and verify a real token', async (t) => {
  const dir = tempDir(t)
  const tarballs = (['client', 'verify'] as const).map((library) => packLibrary(library, dir))
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version
  assert.deepEqual(tarballs.map((p) => basename(p)), [`keymint-client-${version}.tgz`, `keymint-verify-${version}.tgz`])

  const project = join(dir, 'project')
  mkdirSync(project)
  const dependencies = { 'keymint-client': `file:../${basename(tarballs[0]!)}`, 'keymint-verify': `file:../${basename(tarballs[1]!)}` }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'resource-server', version: '1.0.0', private: true, type: 'module', dependencies }))
  const jose = joseEntry()
  const library = (name: string, file: string) => ({ version, resolved: file, dependencies: { jose: '^6.1.0' } })
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify({
    name: 'resource-server', version: '1.0.0', lockfileVersion: 3, requires: true,
    packages: {
      '': { name: 'resource-server', version: '1.0.0', dependencies },
      'node_modules/keymint-client': library('keymint-client', dependencies['keymint-client']),
      'node_modules/keymint-verify': library('keymint-verify', dependencies['keymint-verify']),
      'node_modules/jose': jose,
    },
  }))
  await npm(['ci', '--offline', '--ignore-scripts'], project)
  const tree = JSON.parse((await npm(['ls', '--all', '--json'], project)).stdout) as { dependencies: Record<string, { dependencies?: Record<string, unknown> }> }
  const installed = new Set<string>()
  const walk = (deps: Record<string, { dependencies?: Record<string, unknown> }> | undefined) => {
    for (const [name, node] of Object.entries(deps ?? {})) { installed.add(name); walk(node.dependencies as never) }
  }
  walk(tree.dependencies)
  assert.deepEqual([...installed].sort(), ['jose', 'keymint-client', 'keymint-verify'])

  writeFileSync(join(project, 'use.ts'), [
    "import { TokenClient, type TokenClientOptions } from 'keymint-client'",
    "import { createVerifier, type VerifiedToken } from 'keymint-verify'",
    "const options: TokenClientOptions = { issuer: process.argv[2]!, clientId: process.argv[3]!, clientSecret: process.argv[4]! }",
    'const client = new TokenClient(options)',
    'const verifier = createVerifier({ issuer: process.argv[2]!, audience: process.argv[2]! })',
    'const seen: VerifiedToken = await verifier.verify(await client.getToken())',
    'console.log(JSON.stringify({ client_id: seen.claims.client_id, scopes: seen.scopes }))',
  ].join('\n'))
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
    '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'use.ts'], { cwd: project })
    .catch((err: { stdout?: string }) => assert.fail(`the libraries' types do not check:\n${err.stdout ?? String(err)}`))

  const s = await startTestServer(t, 'sqlite')
  const c = await seedClient(s.services)
  const out = (await run(process.execPath, ['use.js', s.url, c.clientId, c.clientSecret], { cwd: project })).stdout
  assert.deepEqual(JSON.parse(out), { client_id: c.clientId, scopes: ['all'] })
})
