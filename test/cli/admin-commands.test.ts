import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { keymint } from '../helpers/cli.js'

test('keymint --version prints the version of package.json', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  for (const flag of ['--version', '-V']) {
    const res = await keymint([flag])
    assert.deepEqual(res, { code: 0, stdout: `${version}\n`, stderr: '' })
  }
})
