import { readFileSync } from 'node:fs'
import { packagePath } from './package-files.js'

/** The package version, read once from package.json. */
export const KEYMINT_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version
  } catch {
    return '0.0.0'
  }
})()
