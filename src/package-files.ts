import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The directory holding keymint's package.json, found by walking up from this module: the same
 * answer from dist/src/ and from the command line's bundle in dist/cli/, which sit at different
 * depths, and from a checkout, an installed package or an image.
 */
export const PACKAGE_ROOT: string = (() => {
  const start = dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = dirname(dir)) {
    if (isKeymintPackage(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) return join(start, '..', '..')
  }
})()

function isKeymintPackage(file: string): boolean {
  if (!existsSync(file)) return false
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'keymint'
  } catch {
    return false
  }
}

/** A path inside the package, such as `packagePath('dist', 'web')`. */
export function packagePath(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments)
}
