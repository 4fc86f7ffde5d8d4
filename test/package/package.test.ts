import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { tempDir } from '../helpers/server.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const run = promisify(execFile)
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 32 * 1024 * 1024 })

interface LockEntry { dev?: boolean; version?: string; resolved?: string; [key: string]: unknown }

/** Where the registry keeps a package's tarball (this npm writes lock files without it). */
function registryTarball(path: string, entry: LockEntry): string {
  const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)
  return `https://registry.npmjs.org/${name}/-/${name.split('/').at(-1)}-${entry.version}.tgz`
}

/**
 * The lock file `npm install ./keymint-<version>.tgz` would write, made from this checkout's: the
 * tarball, and exactly the packages keymint needs at run time (those not marked dev), so the
 * install resolves offline from what `npm ci` put in npm's cache.
 */
function projectLock(tarball: string): object {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: object; license: string }
  const runtime = Object.entries(lock.packages).filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev)
  return {
    name: 'uses-keymint', version: '1.0.0', lockfileVersion: 3, requires: true,
    packages: {
      '': { name: 'uses-keymint', version: '1.0.0', dependencies: { keymint: `file:${tarball}` } },
      'node_modules/keymint': {
        version: manifest.version, resolved: `file:${tarball}`, license: manifest.license,
        dependencies: manifest.dependencies, bin: manifest.bin, engines: manifest.engines,
      },
      ...Object.fromEntries(runtime.map(([path, entry]) => [path, { ...entry, devOptional: undefined, resolved: entry.resolved ?? registryTarball(path, entry) }])),
    },
  }
}

// What a new user does: pack, install the tarball into an empty project, run `npx keymint serve`,
// import the two libraries with their types. Offline: dependencies come from npm's cache (which
// `npm ci` filled); install scripts are skipped and better-sqlite3's native module is taken from
// this checkout's build instead of being compiled a second time.
test('npm pack → npm install ./keymint-<version>.tgz (offline) → npx keymint serve, and the libraries with their types', async (t) => {
  const dir = tempDir(t)
  const packed = JSON.parse((await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)).stdout) as { filename: string; files: { path: string }[] }[]
  const tarball = packed[0]!
  const files = tarball.files.map((f) => f.path)
  assert.ok(files.includes('bin/keymint') && files.includes('dist/cli/main.js') && files.includes('dist/src/client/index.d.ts'))
  assert.ok(!files.some((f) => f.includes('.test.') || f.startsWith('test/') || f.startsWith('dist/test/')), 'no tests in the package')
  assert.ok(files.includes('CHANGELOG.md'))

  const project = join(dir, 'project')
  mkdirSync(project)
  copyFileSync(join(dir, tarball.filename), join(project, tarball.filename))
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-keymint', version: '1.0.0', private: true, type: 'module', dependencies: { keymint: `file:${tarball.filename}` } }))
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(projectLock(tarball.filename)))
  await npm(['ci', '--offline', '--ignore-scripts'], project)
  const native = 'node_modules/better-sqlite3/build/Release'
  mkdirSync(join(project, native), { recursive: true })
  for (const file of readdirSync(join(ROOT, native)).filter((f) => f.endsWith('.node'))) copyFileSync(join(ROOT, native, file), join(project, native, file))

  const version = (await run('npx', ['--no-install', 'keymint', '--version'], { cwd: project })).stdout.trim()
  assert.equal(version, (JSON.parse((await run('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: ROOT })).stdout) as { version: string }).version)

  // The first start, as the README's first command gives it: SQLite in the working directory, the bootstrap sign-in.
  const child = spawn('npx', ['--no-install', 'keymint', 'serve', '--port', '0'], {
    cwd: project, env: { ...process.env, KEYMINT_DATABASE_URL: '', KEYMINT_MASTER_KEY: '', KEYMINT_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  })
  t.after(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ } })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString()
      const match = /keymint listening on (http:\/\/\S+)/.exec(out)
      if (match) resolve(match[1]!)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`npx keymint serve exited ${code}:\n${out}`)))
  })
  assert.match(out, /created enterprise account/)
  assert.match(out, /one-time password/)
  assert.equal((await fetch(`${url}/healthz`)).status, 200)
  const home = await fetch(`${url}/`)
  assert.equal(home.status, 200, 'the dashboard is in the package')
  assert.match(home.headers.get('content-type') ?? '', /text\/html/)
  process.kill(-child.pid!, 'SIGTERM')

  // keymint/client and keymint/verify: their types resolve from the installed package, and loading
  // them loads nothing of the server (only their own files, jose and Node's built-ins).
  writeFileSync(join(project, 'use.ts'), [
    "import { TokenClient, type TokenClientOptions } from 'keymint/client'",
    "import { createVerifier, type VerifiedToken } from 'keymint/verify'",
    "const options: TokenClientOptions = { issuer: 'https://auth.example.com', clientId: 'id', clientSecret: 'secret' }",
    'export const client = new TokenClient(options)',
    "export const verifier = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' })",
    'export type Seen = VerifiedToken',
  ].join('\n'))
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'use.ts'], { cwd: project })
    .catch((err: { stdout?: string }) => assert.fail(`the libraries' types do not check:\n${err.stdout ?? String(err)}`))
  writeFileSync(join(project, 'loaded.mjs'), [
    "import { register } from 'node:module'",
    "register('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, next) { const r = await next(s, c); if (!r.url.startsWith(\"node:\")) process.stderr.write(\"LOADED \" + r.url + \"\\\\n\"); return r }'))",
  ].join('\n'))
  const loaded = await run(process.execPath, ['--import', './loaded.mjs', '-e', "await import('keymint/client'); await import('keymint/verify')", '--input-type=module'], { cwd: project })
  const urls = loaded.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice('LOADED '.length))
  assert.ok(urls.length > 3, loaded.stderr)
  for (const u of urls) {
    assert.match(u, /node_modules\/(keymint\/dist\/src\/(client|verify)\/|jose\/)/, `loading the libraries loaded ${u}`)
  }

  // The installed command runs from its bundle, not from the compiled modules beside it (an
  // installed package's files carry the times they were unpacked, which must not decide).
  const command = await run(process.execPath, ['--import', './loaded.mjs', 'node_modules/keymint/bin/keymint', '--version'], { cwd: project })
  const commandFiles = command.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice('LOADED '.length))
  assert.ok(commandFiles.some((u) => u.endsWith('node_modules/keymint/dist/cli/main.js')), command.stderr)
  assert.deepEqual(commandFiles.filter((u) => u.includes('node_modules/keymint/dist/src/')), [], 'nothing of dist/src')
})
