import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { test } from 'node:test'
import { ESLint, type Rule } from 'eslint'
import tseslint from 'typescript-eslint'
import { generateApiSchema, SCHEMA_FILE } from '../../scripts/web-api-schema.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const BUILT = fileURLToPath(new URL('../../web/', import.meta.url))
const BUDGET = 200 * 1024

test("the dashboard's API types match the OpenAPI document the server builds (npm run web:schema)", async () => {
  const checkedIn = readFileSync(SCHEMA_FILE, 'utf8')
  assert.ok(await generateApiSchema() === checkedIn, 'web/src/api/schema.d.ts is stale: run npm run web:schema')
})

interface ManifestChunk { file: string; isEntry?: boolean; imports?: string[] }

test('the JavaScript the first load needs is at most 200 kB gzipped', () => {
  const manifest = JSON.parse(readFileSync(`${BUILT}.vite/manifest.json`, 'utf8')) as Record<string, ManifestChunk>
  // The entry and what it imports statically; screens behind sign-in load on demand.
  const initial = new Set<string>()
  const visit = (key: string) => {
    const chunk = manifest[key]
    if (!chunk || initial.has(chunk.file)) return
    initial.add(chunk.file)
    for (const imported of chunk.imports ?? []) visit(imported)
  }
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key)
  assert.ok(initial.size > 0)
  const gzipped = [...initial].reduce((sum, file) => sum + gzipSync(readFileSync(`${BUILT}${file}`), { level: 9 }).length, 0)
  assert.ok(gzipped <= BUDGET, `initial JavaScript is ${(gzipped / 1024).toFixed(1)} kB gzipped, over ${BUDGET / 1024} kB`)
})

test('web/ may not import the server: the lint rule refuses it', async () => {
  // The rule as eslint.config.js defines it, alone (the full typed lint takes far longer).
  const { overHttpOnly } = await import(pathToFileURL(`${ROOT}eslint.config.js`).href) as { overHttpOnly: Rule.RuleModule }
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [{
      files: ['**/*.tsx'],
      languageOptions: { parser: tseslint.parser as never },
      plugins: { keymint: { rules: { 'over-http-only': overHttpOnly } } },
      rules: { 'keymint/over-http-only': 'error' },
    }],
  })
  const lint = async (code: string) => (await eslint.lintText(code, { filePath: `${ROOT}web/src/screens/probe.tsx` }))[0]?.messages.map((m) => m.ruleId) ?? []
  assert.deepEqual(await lint("import { presentUser } from '../../../src/contract/dto.js'\nexport const x = presentUser\n"), ['keymint/over-http-only'])
  assert.deepEqual(await lint("import { TokenClient } from 'keymint/client'\nexport const x = TokenClient\n"), ['keymint/over-http-only'])
  assert.deepEqual(await lint("export const x = import('../../../src/server.js')\n"), ['keymint/over-http-only'])
  assert.deepEqual(await lint("import { api } from '../api/client'\nexport const x = api\n"), [])
})
