import { useSyncExternalStore } from 'react'

// A small history router: the dashboard has a handful of screens and one deep link
// (/settings/integrations/api) that must open straight from the address bar.

const listeners = new Set<() => void>()
const notify = () => { for (const listener of listeners) listener() }
window.addEventListener('popstate', notify)

function subscribe(listener: () => void): () => void {
  listeners.add(listener)
  return () => { listeners.delete(listener) }
}

/** The path shown in the address bar, kept in step with it. */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname)
}

/** Goes to another screen of the dashboard without reloading the page. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return
  if (options.replace) window.history.replaceState(null, '', to)
  else window.history.pushState(null, '', to)
  notify()
}
