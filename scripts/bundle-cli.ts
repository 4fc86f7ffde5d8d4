// `npm run build`'s last step: the command line as one bundle of keymint's modules and their
// dependencies, in dist/cli/. Starting `keymint` means loading what a command needs; from
// ~1,500 separate files that took longer than most commands' own work (`keymint --version`
// ~0.55 s of CPU, `serve` ~1.8 s; bundled ~0.3 s and ~1.0 s). Commands stay separate chunks,
// loaded when named. Left outside: Node's own modules and the native SQLite driver (and the
// optional native PostgreSQL driver that pg looks for), which load from node_modules as before.
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const root = new URL('../../', import.meta.url)
const outDir = fileURLToPath(new URL('dist/cli/', root))

rmSync(outDir, { recursive: true, force: true })
await build({
  input: { main: fileURLToPath(new URL('dist/src/cli/main.js', root)) },
  platform: 'node',
  external: [/^node:/, 'better-sqlite3', 'pg-native'],
  logLevel: 'warn',
  output: { dir: outDir, format: 'esm', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
})
