import { useCallback, useEffect, useRef, useState } from 'react'
import { problemOf, type Problem } from './api/client'

export interface Loaded<T> {
  readonly data: T | undefined
  readonly problem: Problem | undefined
  readonly loading: boolean
  readonly reload: () => Promise<void>
}

/** Loads with an API call (openapi-fetch's `{ data, error, response }`), again on `reload`. */
export function useLoad<T>(call: () => Promise<{ data?: T; error?: unknown; response: Response }>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; problem: Problem | undefined; loading: boolean }>({ data: undefined, problem: undefined, loading: true })
  const latest = useRef(0)
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what the call depends on
  const run = useCallback(call, deps)
  const reload = useCallback(async () => {
    const ticket = ++latest.current
    setState((s) => ({ ...s, loading: true }))
    try {
      const { data, error, response } = await run()
      if (ticket !== latest.current) return
      setState({ data, problem: data === undefined ? problemOf(error, response) : undefined, loading: false })
    } catch (err) {
      if (ticket === latest.current) setState({ data: undefined, problem: problemOf(err), loading: false })
    }
  }, [run])
  useEffect(() => { void reload() }, [reload])
  return { ...state, reload }
}
