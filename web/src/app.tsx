import { useCallback, useEffect, useMemo, useState } from 'react'
import { RouterProvider } from 'react-aria-components'
import { api, onSessionEnded, setCsrfToken, type SignedIn } from './api/client'
import { Shell } from './components/shell'
import { navigate } from './router'
import { ChangePassword } from './screens/change-password'
import { EnrollSecondFactor } from './screens/enroll-second-factor'
import { SignIn } from './screens/sign-in'
import { SessionContext } from './session'

type State =
  | { readonly kind: 'loading' }
  | { readonly kind: 'signed-out'; readonly message?: string }
  | { readonly kind: 'signed-in'; readonly signedIn: SignedIn }

/** Who is signed in decides the screen: sign-in, a step the server requires first, or the dashboard. */
export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' })

  const accept = useCallback((signedIn: SignedIn) => {
    setCsrfToken(signedIn.csrf_token)
    setState({ kind: 'signed-in', signedIn })
  }, [])

  useEffect(() => {
    let live = true
    void api.GET('/api/v1/sessions/current').then(({ data }) => {
      if (!live) return
      if (data) accept(data)
      else setState({ kind: 'signed-out' })
    }, () => { if (live) setState({ kind: 'signed-out', message: 'The server could not be reached. Reload the page to try again.' }) })
    return () => { live = false }
  }, [accept])

  useEffect(() => onSessionEnded(() => {
    setCsrfToken(undefined)
    setState({ kind: 'signed-out', message: 'Your session has ended. Sign in again to go on.' })
  }), [])

  const signOut = useCallback(async () => {
    await api.DELETE('/api/v1/sessions/current')
    setCsrfToken(undefined)
    setState({ kind: 'signed-out', message: 'You have signed out.' })
  }, [])

  const session = useMemo(() => state.kind === 'signed-in' ? { signedIn: state.signedIn, replace: accept, signOut } : null, [state, accept, signOut])

  let screen
  if (state.kind === 'loading') screen = <p className="loading" role="status">Loading…</p>
  else if (state.kind === 'signed-out') screen = <SignIn message={state.message} onSignedIn={accept} />
  else if (state.signedIn.password_change_required) screen = <ChangePassword onChanged={accept} />
  else if (state.signedIn.second_factor_enrollment_required) screen = <EnrollSecondFactor onDone={accept} />
  else screen = <Shell />

  return (
    <RouterProvider navigate={(to) => navigate(to)}>
      {session ? <SessionContext.Provider value={session}>{screen}</SessionContext.Provider> : screen}
    </RouterProvider>
  )
}
