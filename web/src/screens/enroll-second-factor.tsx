import { useEffect, useState } from 'react'
import { Button } from 'react-aria-components'
import { api, problemOf, type SignedIn } from '../api/client'
import { QrCode } from '../components/qr-code'
import { CopyButton, EditableForm, Field, Notice } from '../components/ui'
import { useSession } from '../session'

/** The account requires a second factor of admins: set up TOTP before anything else. */
export function EnrollSecondFactor({ onDone }: { onDone: (signedIn: SignedIn) => void }) {
  const { signOut } = useSession()
  const [enrollment, setEnrollment] = useState<{ secret: string; otpauth_uri: string } | undefined>()
  const [otp, setOtp] = useState('')
  const [otpError, setOtpError] = useState<string | undefined>()
  const [formError, setFormError] = useState<string | undefined>()
  const [codes, setCodes] = useState<string[] | undefined>()
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    let live = true
    void api.POST('/api/v1/me/second-factor').then(({ data, error, response }) => {
      if (!live) return
      if (data) setEnrollment(data)
      else setFormError(problemOf(error, response).detail)
    })
    return () => { live = false }
  }, [])

  const confirm = async () => {
    if (otp.trim() === '') {
      setOtpError('Enter the code your app shows.')
      return
    }
    setBusy(true)
    setOtpError(undefined)
    try {
      const { data, error, response } = await api.POST('/api/v1/me/second-factor/confirm', { body: { otp } })
      if (data) setCodes(data.recovery_codes)
      else {
        const problem = problemOf(error, response)
        if (response.status === 400) setOtpError('That code does not match. Check the time on your device and enter the next code.')
        else setFormError(problem.detail)
      }
    } finally {
      setBusy(false)
    }
  }

  const finish = async () => {
    const { data } = await api.GET('/api/v1/sessions/current')
    if (data) onDone(data)
  }

  return (
    <main className="sign-in">
      <div className="card sign-in-card wide">
        <h1 className="page-title">Set up a second factor</h1>
        {formError && <Notice kind="error">{formError}</Notice>}
        {codes ? (
          <>
            <Notice kind="success">The second factor is on. From now on, sign-in asks for a code from your app.</Notice>
            <h2>Recovery codes</h2>
            <p>Each of these stands in for a code from the app once, should you lose the device. Keep them somewhere safe: they are shown only now.</p>
            <ul className="codes" aria-label="Recovery codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
            <div className="actions">
              <CopyButton value={codes.join('\n')} label="Copy the recovery codes" />
              <Button className="button button-primary" onPress={() => void finish()}>Continue to the dashboard</Button>
            </div>
          </>
        ) : (
          <>
            <p>This account requires admins to sign in with a second factor. Scan the code with an authenticator app (or type the key into it), then enter the 6-digit code it shows.</p>
            {enrollment ? (
              <div className="enroll">
                <QrCode value={enrollment.otpauth_uri} label="QR code of the authenticator app's setup key" />
                <div className="enroll-text">
                  <p className="label">Setup key</p>
                  <p><code className="secret" data-testid="totp-secret">{enrollment.secret}</code> <CopyButton value={enrollment.secret} label="Copy the setup key" /></p>
                  <p className="label">Setup link</p>
                  <p><code className="wrap">{enrollment.otpauth_uri}</code></p>
                </div>
              </div>
            ) : !formError && <p role="status">Preparing a key…</p>}
            <EditableForm validationErrors={otpError ? { otp: otpError } : {}} onEdit={() => setOtpError(undefined)} onSubmit={(e) => { e.preventDefault(); void confirm() }} className="form">
              <Field name="otp" label="Code from the app" autoComplete="one-time-code" inputMode="numeric" isRequired value={otp} onChange={setOtp} />
              <div className="actions">
                <Button className="button" onPress={() => void signOut()}>Sign out</Button>
                <Button type="submit" className="button button-primary" isDisabled={busy || !enrollment}>Turn on</Button>
              </div>
            </EditableForm>
          </>
        )}
      </div>
    </main>
  )
}
