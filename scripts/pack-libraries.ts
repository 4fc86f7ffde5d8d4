// Packs keymint/client and keymint/verify as packages of their own, `keymint-client` and
// `keymint-verify`, which depend on jose alone: a project that only gets or checks tokens installs
// them without the server's dependencies (Fastify, SQLite, PostgreSQL…). Run after `npm run build`:
//   node dist/scripts/pack-libraries.js [destination]   (default: dist/packages)
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface Manifest { version: string; license: string; engines: Record<string, string>; dependencies: Record<string, string>; repository?: unknown }

const LIBRARIES = {
  client: {
    description: 'Gets, caches and renews keymint access tokens, in either dialect',
    peers: {},
  },
  verify: {
    description: 'Checks keymint access tokens in a resource server, with Express and Fastify adapters',
    // The Fastify adapter's types name Fastify's; a resource server on Fastify has it already.
    peers: { fastify: '>=5' },
  },
} as const

export type Library = keyof typeof LIBRARIES

/** Writes the package directory of one library under `out`; returns its path. */
export function stageLibrary(library: Library, out: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest
  const { description, peers } = LIBRARIES[library]
  const dir = join(out, `keymint-${library}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  // The library's compiled files only: it imports nothing of keymint outside its own folder.
  cpSync(join(ROOT, 'dist/src', library), dir, { recursive: true, filter: (src) => !/\.test\.(js|d\.ts)(\.map)?$/.test(src) })
  const peerNames = Object.keys(peers)
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({
    name: `keymint-${library}`,
    version: manifest.version,
    description,
    license: manifest.license,
    type: 'module',
    engines: manifest.engines,
    exports: { '.': { types: './index.d.ts', default: './index.js' }, './package.json': './package.json' },
    dependencies: { jose: manifest.dependencies.jose },
    ...(peerNames.length === 0 ? {} : {
      peerDependencies: peers,
      peerDependenciesMeta: Object.fromEntries(peerNames.map((name) => [name, { optional: true }])),
    }),
  }, null, 2)}\n`)
  writeFileSync(join(dir, 'README.md'), `# keymint-${library}\n\n${description}.\n\nThe same code as \`keymint/${library}\` in the \`keymint\` package, without the server's dependencies. See keymint's README.\n`)
  return dir
}

/** Stages and packs one library; returns the tarball's path. */
export function packLibrary(library: Library, destination: string): string {
  const dir = stageLibrary(library, join(destination, 'staged'))
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], { cwd: dir, encoding: 'utf8' })) as { filename: string }[]
  return join(destination, packed[0]!.filename)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const destination = resolve(process.argv[2] ?? join(ROOT, 'dist/packages'))
  mkdirSync(destination, { recursive: true })
  for (const library of Object.keys(LIBRARIES) as Library[]) process.stdout.write(`${packLibrary(library, destination)}\n`)
}
