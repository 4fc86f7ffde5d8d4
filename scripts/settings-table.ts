// Prints the README's settings table from src/config-schema.ts; with --write, puts it in README.md
// between <!-- settings:start --> and <!-- settings:end -->.
import { readFileSync, writeFileSync } from 'node:fs'
import { renderSettingsTable } from '../src/config-schema.js'

const START = '<!-- settings:start -->'
const END = '<!-- settings:end -->'
const table = renderSettingsTable()

if (process.argv.includes('--write')) {
  const path = new URL('../../README.md', import.meta.url)
  const readme = readFileSync(path, 'utf8')
  const [start, end] = [readme.indexOf(START), readme.indexOf(END)]
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} block`)
  writeFileSync(path, `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`)
} else {
  process.stdout.write(`${table}\n`)
}
