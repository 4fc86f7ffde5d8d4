import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

// The dashboard driven in Debian's Chromium (never a downloaded browser): one browser per test
// process, shared by its files (starting one cost ~3 s of CPU), a fresh context (profile) per test.

export const CHROMIUM = '/usr/bin/chromium'
export const WIDTHS = { desktop: 1280, phone: 390 } as const
const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
const BUILT = fileURLToPath(new URL('../../web/index.html', import.meta.url))

let launched: Promise<Browser> | undefined
let openContexts = 0
let idle: NodeJS.Timeout | undefined

/**
 * The process's browser, started at the first call and closed once no test has used it for two
 * seconds (the files of a shard run back to back; after the last one, the process can end).
 */
export function browser(): Promise<Browser> {
  clearTimeout(idle)
  if (!launched) {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`)
    assert.ok(existsSync(BUILT), 'the dashboard is not built: npm run build')
    launched = chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] })
  }
  return launched
}

function closeWhenIdle(): void {
  if (--openContexts > 0) return
  clearTimeout(idle)
  idle = setTimeout(() => {
    const closing = launched
    launched = undefined
    void closing?.then((b) => b.close())
  }, 2000)
}

/**
 * Options of every test that drives the browser: a page that stops answering (an `evaluate` waits
 * without a limit) fails its test within minutes instead of at the whole suite's limit.
 */
export const IN_BROWSER = { timeout: 180_000 } as const

export interface Tab {
  readonly context: BrowserContext
  readonly page: Page
  /** Console errors and uncaught exceptions, CSP violations included: a test ends with none. */
  readonly errors: string[]
}

export async function openTab(url: string, opts: { width?: number; dark?: boolean } = {}): Promise<Tab> {
  const width = opts.width ?? WIDTHS.desktop
  // Counted before the browser is asked, so that it cannot close meanwhile.
  openContexts++
  let context: BrowserContext
  try {
    context = await (await browser()).newContext({
      viewport: { width, height: width === WIDTHS.phone ? 844 : 900 },
      colorScheme: opts.dark ? 'dark' : 'light',
      permissions: ['clipboard-read', 'clipboard-write'],
    })
  } catch (err) {
    closeWhenIdle()
    throw err
  }
  context.on('close', closeWhenIdle)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()) })
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(url)
  return { context, page, errors }
}

/** Errors the browser reported, leaving out the 4xx answers a test provoked on purpose. */
export function unexpectedErrors(tab: Tab): string[] {
  return tab.errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e))
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }

/**
 * axe-core over the page as it is now: no serious or critical violation. The script is evaluated
 * through the browser's debugging protocol: the page's CSP rightly refuses inline scripts.
 */
export async function assertAccessible(page: Page, where: string): Promise<void> {
  // Once per document: the dashboard navigates without reloading, and compiling axe's half a
  // megabyte again for every check cost Chromium more than the check.
  if (!await page.evaluate(() => typeof (window as { axe?: unknown }).axe === 'object')) await page.evaluate(axeSource)
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: AxeViolation[] }> } }).axe
    const result = await axe.run(document, { resultTypes: ['violations'] })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target) }))
  })
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  assert.deepEqual(serious, [], `${where}: ${JSON.stringify(serious, null, 1)}`)
}

/**
 * Screenshots for the README and docs/screenshots/, taken with KEYMINT_SCREENSHOTS=1
 * (`npm run screenshots`): a full-page PNG cost Chromium about a second of CPU, forty of them a
 * tenth of the whole suite, for pictures no test looks at.
 */
const TAKE_SCREENSHOTS = process.env.KEYMINT_SCREENSHOTS === '1'

/** Checks the page at both widths (and takes the screenshot, when named and asked for). */
export async function assertAccessibleAtBothWidths(page: Page, where: string, screenshot?: string): Promise<void> {
  const original = page.viewportSize()
  for (const [name, width] of Object.entries(WIDTHS)) {
    await page.setViewportSize({ width, height: width === WIDTHS.phone ? 844 : 900 })
    await assertAccessible(page, `${where} at ${width} px`)
    // Nothing wider than the screen: no sideways scrolling of the page (wide tables scroll inside their frame).
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth)
    assert.ok(scrollWidth <= width, `${where} at ${width} px: the page is ${scrollWidth} px wide`)
    if (screenshot && TAKE_SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}${screenshot}-${name}.png`, fullPage: true })
  }
  if (original) await page.setViewportSize(original)
}

export async function signInThroughPage(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

export async function close(browser: Browser): Promise<void> {
  await browser.close()
}
