import { useState } from 'react'
import { Button } from 'react-aria-components'
import { api, emptyFields, explain, problemOf, type SignedIn } from '../api/client'
import { EditableForm, Field, Notice } from '../components/ui'
import { BrandMark } from '../components/icons'

type Errors = Partial<Record<'email' | 'password' | 'otp', string>>

/** Email and password, then the second factor's code when the server asks for it. */
export function SignIn({ message, onSignedIn }: { message?: string | undefined; onSignedIn: (signedIn: SignedIn) => void }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [otp, setOtp] = useState('')
  const [needsOtp, setNeedsOtp] = useState(false)
  const [errors, setErrors] = useState<Errors>({})
  const [formError, setFormError] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)

  const submit = async () => {
    setFormError(undefined)
    const empty: Errors = needsOtp ? emptyFields({ email, password, otp }) : emptyFields({ email, password })
    setErrors(empty)
    if (Object.keys(empty).length > 0) return
    setBusy(true)
    try {
      const { data, error, response } = await api.POST('/api/v1/sessions', { body: { email, password, ...(needsOtp ? { otp } : {}) } })
      if (data) {
        onSignedIn(data)
        return
      }
      const problem = problemOf(error, response)
      if (problem.code === 'KEYMINT_OTP_REQUIRED') {
        setNeedsOtp(true)
      } else if (needsOtp && response.status === 401) {
        // The password was right a moment ago (the server asks for a code only then): the code is not.
        setErrors({ otp: 'That code is wrong, or was used before. Try the next code from your app.' })
      } else if (response.status === 401) {
        setErrors({ password: 'The email or the password is wrong.' })
      } else if (response.status === 429) {
        const minutes = Math.ceil(Number(response.headers.get('retry-after') ?? '60') / 60)
        setFormError(`Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`)
      } else if (problem.detail.includes('body/email')) {
        setErrors({ email: explain(problem) })
      } else {
        setFormError(explain(problem))
      }
    } catch {
      setFormError('The server could not be reached. Try again.')
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="sign-in">
      <div className="card sign-in-card">
        <div className="sign-in-brand"><BrandMark /> <span>keymint</span></div>
        <h1 className="page-title">Sign in</h1>
        {message && <Notice kind="info">{message}</Notice>}
        {formError && <Notice kind="error">{formError}</Notice>}
        <EditableForm validationErrors={errors} onEdit={() => setErrors((e) => Object.keys(e).length === 0 ? e : {})} onSubmit={(e) => { e.preventDefault(); void submit() }} className="form">
          <Field name="email" label="Email" type="email" autoComplete="username" isRequired value={email} onChange={setEmail} autoFocus isReadOnly={needsOtp} />
          <Field name="password" label="Password" type="password" autoComplete="current-password" isRequired value={password} onChange={setPassword} isReadOnly={needsOtp} />
          {needsOtp && (
            <>
              <Notice kind="info">This account has a second factor. Enter the 6-digit code from your authenticator app, or one of your recovery codes.</Notice>
              <Field name="otp" label="Code" autoComplete="one-time-code" inputMode="numeric" isRequired value={otp} onChange={setOtp} autoFocus />
            </>
          )}
          <div className="actions">
            {needsOtp && <Button className="button" onPress={() => { setNeedsOtp(false); setOtp(''); setErrors({}) }}>Back</Button>}
            <Button type="submit" className="button button-primary" isDisabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</Button>
          </div>
        </EditableForm>
      </div>
    </main>
  )
}
