import { existsSync, statSync } from 'node:fs'

// Which modules run the command line: its bundle (scripts/bundle-cli.ts), a few files to load
// instead of ~1,500. In a checkout compiled again after the bundle was made (`tsc` alone), the
// compiled modules instead, so that what runs is never older than what was built. (Only in a
// checkout: an installed package's files carry the times they were unpacked, not built.)
// bin/keymint runs it; so do the test suite's command runners.
const bundle = new URL('../dist/cli/main.js', import.meta.url)
const compiled = new URL('../dist/src/cli/main.js', import.meta.url)
const modified = (url) => {
  try {
    return statSync(url).mtimeMs
  } catch {
    return -1
  }
}
const inCheckout = existsSync(new URL('../src/cli/main.ts', import.meta.url))
const bundled = modified(bundle) >= 0 && (!inCheckout || modified(bundle) >= modified(compiled))

/** The URL of the module whose `main(argv)` is the `keymint` command. */
export const cliEntry = bundled ? bundle.href : compiled.href
