import { useState } from 'react'
import { Button } from 'react-aria-components'
import { api, emptyFields, explain, problemOf, type SignedIn } from '../api/client'
import { EditableForm, Field, Notice } from '../components/ui'
import { useSession } from '../session'

type Errors = Partial<Record<'current_password' | 'new_password' | 'repeat', string>>

/** The first sign-in with a one-time password (or a reset one) must choose a new password first. */
export function ChangePassword({ onChanged }: { onChanged: (signedIn: SignedIn) => void }) {
  const { signedIn, signOut } = useSession()
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [repeat, setRepeat] = useState('')
  const [errors, setErrors] = useState<Errors>({})
  const [formError, setFormError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)

  const submit = async () => {
    setFormError(undefined)
    const empty = emptyFields({ current_password: current, new_password: next, repeat })
    setErrors(empty)
    if (Object.keys(empty).length > 0) return
    if (next !== repeat) {
      setErrors({ repeat: 'The two new passwords differ.' })
      return
    }
    setBusy(true)
    try {
      const { data, error, response } = await api.POST('/api/v1/me/password', { body: { current_password: current, new_password: next } })
      if (data) {
        onChanged(data)
        return
      }
      const problem = problemOf(error, response)
      if (problem.code === 'KEYMINT_WRONG_PASSWORD') setErrors({ current_password: 'This is not your current password.' })
      else if (problem.code === 'KEYMINT_WEAK_PASSWORD') setErrors({ new_password: `Choose another password: ${problem.detail}.` })
      else setFormError(explain(problem))
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="sign-in">
      <div className="card sign-in-card">
        <h1 className="page-title">Choose a new password</h1>
        <Notice kind="info">
          {signedIn.user.email} signed in with a one-time password. Choose a password of your own to go on:
          at least 12 characters, and not a common one.
        </Notice>
        {formError && <Notice kind="error">{formError}</Notice>}
        <EditableForm validationErrors={errors} onEdit={() => setErrors((e) => Object.keys(e).length === 0 ? e : {})} onSubmit={(e) => { e.preventDefault(); void submit() }} className="form">
          <input type="text" name="username" autoComplete="username" value={signedIn.user.email} readOnly hidden />
          <Field name="current_password" label="Current (one-time) password" type="password" autoComplete="current-password" isRequired value={current} onChange={setCurrent} autoFocus />
          <Field name="new_password" label="New password" type="password" autoComplete="new-password" isRequired minLength={12} value={next} onChange={setNext} description="At least 12 characters." />
          <Field name="repeat" label="New password again" type="password" autoComplete="new-password" isRequired value={repeat} onChange={setRepeat} />
          <div className="actions">
            <Button className="button" onPress={() => void signOut()}>Sign out</Button>
            <Button type="submit" className="button button-primary" isDisabled={busy}>{busy ? 'Saving…' : 'Save password'}</Button>
          </div>
        </EditableForm>
      </div>
    </main>
  )
}
