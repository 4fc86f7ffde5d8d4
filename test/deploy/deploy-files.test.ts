import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { test, type TestContext } from 'node:test'
import { parse as parseYaml, parseAllDocuments } from 'yaml'
import { buildProgram } from '../../src/cli/main.js'
import { SETTINGS } from '../../src/config-schema.js'
import { routesOf } from '../helpers/routes.js'
import { startTestServer } from '../helpers/server.js'

// The container, compose, Kubernetes and systemd files cannot run here (no container runtime,
// no cluster, no systemd as PID 1). What can be checked is that everything they name exists:
// files they copy, the entry point and its command, the port, the probe paths, every KEYMINT_*
// variable, the version. A rename in the code then fails here instead of in someone's deployment.

const ROOT = new URL('../../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8')
const exists = (path: string) => existsSync(new URL(path, ROOT))

const VARIABLES = new Set<string>(Object.values(SETTINGS).map((s) => s.env))
const DEFAULT_PORT = String(SETTINGS.port.default)
// The commands the CLI registers, as `keymint --help` lists them.
const COMMANDS = new Set((await buildProgram(['node', 'keymint'])).commands.map((c) => c.name()))
const VERSION = (JSON.parse(read('package.json')) as { version: string }).version

/** Probe paths are GET routes of a running keymint that answer 200 while it is sound. */
async function assertProbePaths(t: TestContext, paths: readonly string[], where: string): Promise<void> {
  assert.ok(paths.length > 0, `${where} names probe paths`)
  const s = await startTestServer(t, 'sqlite')
  const gets = new Set(routesOf(s.server.app).filter((r) => r.method === 'GET').map((r) => r.url))
  for (const path of paths) {
    assert.ok(gets.has(path), `${where}: keymint has no route GET ${path}`)
    const res = await fetch(`${s.url}${path}`)
    await res.arrayBuffer()
    assert.equal(res.status, 200, `${where}: GET ${path}`)
  }
}

function assertKnownVariables(names: Iterable<string>, where: string): void {
  for (const name of names) if (name.startsWith('KEYMINT_')) assert.ok(VARIABLES.has(name), `${where}: ${name} is not a keymint setting`)
}

test('the CLI commands and the version were read', () => {
  assert.ok(COMMANDS.has('serve') && COMMANDS.has('migrate') && COMMANDS.size > 5, [...COMMANDS].join(' '))
  assert.match(VERSION, /^\d+\.\d+\.\d+/)
})

test('the Dockerfile copies what exists, runs bin/keymint serve as a non-root user, checks /healthz, keeps data on a volume', async (t) => {
  const text = read('Dockerfile').replace(/\\\n\s*/g, ' ')
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  const stages = lines.filter((l) => l.startsWith('FROM '))
  assert.ok(stages.length >= 2, 'multi-stage')
  for (const line of lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
    const sources = line.replace(/^COPY\s+(--\S+\s+)*/, '').split(/\s+/).slice(0, -1)
    for (const source of sources) if (source !== '.') assert.ok(exists(source), `COPY ${source}: no such file`)
  }
  for (const line of lines.filter((l) => l.startsWith('COPY --from='))) {
    const source = line.split(/\s+/)[2]?.replace(/^\/app\//, '') ?? ''
    assert.ok(['node_modules', 'dist', 'bin', 'package.json'].includes(source), `COPY --from ${source}`)
    if (source !== 'node_modules' && source !== 'dist') assert.ok(exists(source), source)
  }
  assert.ok(lines.some((l) => /^RUN npm ci --omit=dev\b/.test(l)), 'production dependencies only')
  assert.ok(lines.some((l) => /^USER (node|\d+)$/.test(l)), 'runs as a non-root user')
  const entry = JSON.parse(lines.find((l) => l.startsWith('ENTRYPOINT '))!.slice('ENTRYPOINT '.length)) as string[]
  assert.deepEqual(entry.slice(0, 2), ['node', 'bin/keymint'])
  const cmd = JSON.parse(lines.find((l) => l.startsWith('CMD '))!.slice('CMD '.length)) as string[]
  assert.ok(COMMANDS.has(cmd[0]!), `CMD ${cmd[0]}`)
  assert.ok(exists('bin/keymint'))
  const health = lines.find((l) => l.startsWith('HEALTHCHECK '))
  const probe = new RegExp(`127\\.0\\.0\\.1:${DEFAULT_PORT}(/\\S*?)['"\\s)]`).exec(health ?? '')
  assert.ok(probe, `HEALTHCHECK probes keymint on its port: ${health}`)
  await assertProbePaths(t, [probe[1]!], 'Dockerfile HEALTHCHECK')
  assert.ok(lines.includes(`EXPOSE ${DEFAULT_PORT}`))
  assert.ok(lines.some((l) => l.startsWith('VOLUME ') && l.includes('/data')))
  const env = lines.filter((l) => l.startsWith('ENV ')).flatMap((l) => [...l.matchAll(/(KEYMINT_\w+)=/g)].map((m) => m[1]!))
  assertKnownVariables(env, 'Dockerfile')
  assert.match(text, /KEYMINT_DATABASE_URL=sqlite:\/data\//, 'the database on the volume')
})

test('docker-compose.yml: PostgreSQL, two keymint instances on it, a TLS proxy in front, known settings only', async (t) => {
  const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { build?: string; image?: string; environment?: Record<string, string>; read_only?: boolean; volumes?: string[]; expose?: string[] }> }
  const services = Object.entries(compose.services)
  const instances = services.filter(([, s]) => s.build === '.')
  assert.equal(instances.length, 2, 'two keymint instances')
  for (const [name, s] of instances) {
    assertKnownVariables(Object.keys(s.environment ?? {}), name)
    assert.match(s.environment?.KEYMINT_DATABASE_URL ?? '', /^postgres:\/\//, `${name} on PostgreSQL`)
    assert.match(s.environment?.KEYMINT_ISSUER ?? '', /^https:\/\//, `${name}: the issuer clients see is https`)
    assert.ok(s.environment?.KEYMINT_MASTER_KEY, `${name}: one master key for both`)
    assert.equal(s.read_only, true, `${name}: read-only root filesystem`)
    assert.deepEqual(s.expose, [DEFAULT_PORT])
  }
  assert.ok(services.some(([, s]) => s.image?.startsWith('postgres')), 'PostgreSQL')
  const proxy = services.find(([, s]) => s.image?.startsWith('caddy'))
  assert.ok(proxy, 'a TLS-terminating proxy')
  const caddyfile = proxy[1].volumes?.map((v) => v.split(':')[0]!).find((v) => v.endsWith('Caddyfile'))
  assert.ok(caddyfile && exists(caddyfile.replace(/^\.\//, '')), 'its Caddyfile exists')
  const caddy = read(caddyfile.replace(/^\.\//, ''))
  for (const [name] of instances) assert.match(caddy, new RegExp(`${name}:${DEFAULT_PORT}`), `the proxy reaches ${name}`)
  await assertProbePaths(t, [...caddy.matchAll(/health_uri (\S+)/g)].map((m) => m[1]!), 'Caddyfile')
})

test('the Kubernetes manifests: the image of this version, probes on real paths, the master key from a Secret, a PodDisruptionBudget', async (t) => {
  const docs = parseAllDocuments(read('deploy/kubernetes/keymint.yaml')).map((d) => d.toJS() as Record<string, any>) // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests
  const kinds = docs.map((d) => d.kind)
  assert.deepEqual(kinds.sort(), ['Deployment', 'PodDisruptionBudget', 'Service'])
  const deployment = docs.find((d) => d.kind === 'Deployment')!
  const container = deployment.spec.template.spec.containers[0]
  assert.equal(container.image, `keymint:${VERSION}`, 'the image of the version package.json names')
  assert.deepEqual(container.args, ['serve'])
  assert.ok(COMMANDS.has(container.args[0]))
  assert.equal(String(container.ports[0].containerPort), DEFAULT_PORT)
  assert.equal(container.readinessProbe.httpGet.path, '/readyz')
  await assertProbePaths(t, [container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path], 'Deployment')
  const env = container.env as { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[]
  assertKnownVariables(env.map((e) => e.name), 'Deployment')
  const masterKey = env.find((e) => e.name === 'KEYMINT_MASTER_KEY')
  assert.ok(masterKey?.valueFrom?.secretKeyRef, 'the master key from a Secret')
  assert.equal(container.securityContext.readOnlyRootFilesystem, true)
  assert.equal(deployment.spec.template.spec.securityContext.runAsNonRoot, true)
  const secret = parseYaml(read('deploy/kubernetes/secret.example.yaml')) as { metadata: { name: string }; stringData: Record<string, string> }
  for (const e of env.filter((x) => x.valueFrom)) {
    assert.equal(e.valueFrom!.secretKeyRef.name, secret.metadata.name)
    assert.ok(e.valueFrom!.secretKeyRef.key in secret.stringData, `the example Secret has ${e.valueFrom!.secretKeyRef.key}`)
  }
  const service = docs.find((d) => d.kind === 'Service')!
  assert.equal(service.spec.ports[0].targetPort, container.ports[0].name)
  const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget')!
  assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels)
})

test('the systemd unit runs the packaged bin/keymint serve, hardened, with known settings', () => {
  const unit = read('deploy/systemd/keymint.service')
  const directives = unit.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const)
  const get = (key: string) => directives.filter(([k]) => k === key).map(([, v]) => v)
  const exec = get('ExecStart')[0]?.split(/\s+/) ?? []
  assert.match(exec[1] ?? '', /\/node_modules\/keymint\/bin\/keymint$/, 'the installed package\'s entry point')
  assert.ok(exists('bin/keymint') && COMMANDS.has(exec[2]!))
  assertKnownVariables(get('Environment').map((e) => e.split('=')[0]!), 'systemd')
  for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['DynamicUser', 'yes']]) {
    assert.deepEqual(get(key!), [value], key)
  }
  assert.ok(!get('MemoryDenyWriteExecute').includes('yes'), "V8's JIT needs writable executable memory")
  const db = get('Environment').find((e) => e.startsWith('KEYMINT_DATABASE_URL='))
  assert.match(db ?? '', new RegExp(`sqlite:/var/lib/${get('StateDirectory')[0]}/`), 'the database in its state directory, the one writable place')
})

test('every keymint version a deployment file names is package.json\'s', () => {
  const files = ['Dockerfile', 'docker-compose.yml', ...['Caddyfile', 'kubernetes/', 'prometheus/', 'systemd/'].flatMap((entry) =>
    entry.endsWith('/') ? readdirSync(new URL(`deploy/${entry}`, ROOT)).map((f) => `deploy/${entry}${f}`) : [`deploy/${entry}`])]
  let named = 0
  for (const file of files) {
    for (const [, version] of read(file).matchAll(/\bkeymint[:@-]v?(\d+\.\d+\.\d+[\w.+-]*)/gi)) {
      named++
      assert.equal(version, VERSION, `${file} names keymint ${version}`)
    }
  }
  assert.ok(named > 0, 'the Kubernetes image tag at least')
})
