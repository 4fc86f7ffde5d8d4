import { createContext, useContext } from 'react'
import type { SignedIn } from './api/client'

export interface SessionContextValue {
  readonly signedIn: SignedIn
  /** After a call that answers a new session (a changed password) or changes who is signed in. */
  readonly replace: (signedIn: SignedIn) => void
  readonly signOut: () => Promise<void>
}

export const SessionContext = createContext<SessionContextValue | null>(null)

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext)
  if (!value) throw new Error('useSession outside a signed-in page')
  return value
}

/** What the signed-in person may do; the API refuses the rest anyway. */
export function useAbilities() {
  const { signedIn } = useSession()
  const admin = signedIn.user.role === 'admin'
  const enterprise = signedIn.account.plan === 'enterprise'
  return { admin, enterprise, manageKeys: admin && enterprise, plan: signedIn.account.plan }
}
