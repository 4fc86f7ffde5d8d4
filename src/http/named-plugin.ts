const DISPLAY_NAME = Symbol.for('fastify.display-name')

/**
 * The plugin, named for Fastify by its function's name. Fastify looks for an unnamed plugin's
 * file in require's cache, a scan of every CommonJS module loaded (about a thousand) on each
 * registration: most of the CPU of building the app came from that scan. keymint's plugins are
 * ES modules, never found there, and were named after their functions anyway.
 */
export function named<T extends (...args: never[]) => unknown>(plugin: T): T {
  if (!Object.hasOwn(plugin, DISPLAY_NAME)) Object.defineProperty(plugin, DISPLAY_NAME, { value: plugin.name || 'anonymous plugin' })
  return plugin
}
