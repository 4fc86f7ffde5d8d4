import { useState } from 'react'
import { Button } from 'react-aria-components'
import { api, explain, fieldOf, problemOf, type Schemas } from '../api/client'
import { formatDuration } from '../format'
import { EditableForm, Field, Notice } from './ui'

type Errors = Partial<Record<'default_key_expires_in_seconds' | 'max_key_expires_in_seconds', string>>

const DAY = 86400
const days = (seconds: number | null): string => (seconds === null ? '' : String(Math.round(seconds / DAY * 100) / 100))

/** A field's days as seconds: empty is "none" (null); anything but a positive whole number is an error. */
function secondsOf(text: string): number | null | 'invalid' {
  const trimmed = text.trim()
  if (trimmed === '') return null
  if (!/^\d{1,4}$/.test(trimmed) || Number(trimmed) === 0) return 'invalid'
  return Number(trimmed) * DAY
}

/** How long the account's new key pairs live: a default, and a maximum nobody may exceed. Admins only. */
export function KeyExpirySettings({ account, onSaved }: { account: Schemas['Account']; onSaved: () => Promise<void> }) {
  const [defaultDays, setDefaultDays] = useState(days(account.default_key_expires_in_seconds))
  const [maxDays, setMaxDays] = useState(days(account.max_key_expires_in_seconds))
  const [errors, setErrors] = useState<Errors>({})
  const [formError, setFormError] = useState<string | undefined>()
  const [saved, setSaved] = useState<string | undefined>()
  const [busy, setBusy] = useState(false)

  const submit = async () => {
    setFormError(undefined)
    setSaved(undefined)
    const body = { default_key_expires_in_seconds: secondsOf(defaultDays), max_key_expires_in_seconds: secondsOf(maxDays) }
    const invalid: Errors = {}
    for (const [key, value] of Object.entries(body) as [keyof Errors, number | null | 'invalid'][]) {
      if (value === 'invalid') invalid[key] = 'Enter a whole number of days (1 to 3650), or leave it empty for none.'
    }
    setErrors(invalid)
    if (Object.keys(invalid).length > 0) return
    setBusy(true)
    try {
      const { data, error, response } = await api.PATCH('/api/v1/account', { body: body as { default_key_expires_in_seconds: number | null; max_key_expires_in_seconds: number | null } })
      if (!data) {
        const problem = problemOf(error, response)
        const field = fieldOf(problem)
        if (problem.code === 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM') setErrors({ default_key_expires_in_seconds: 'The default cannot be longer than the maximum.' })
        else if (field === 'default_key_expires_in_seconds' || field === 'max_key_expires_in_seconds') setErrors({ [field]: 'Enter a whole number of days (1 to 3650), or leave it empty for none.' })
        else setFormError(explain(problem))
        return
      }
      setSaved(`Saved. New key pairs ${data.default_key_expires_in_seconds !== null ? `expire after ${formatDuration(data.default_key_expires_in_seconds)} unless asked otherwise`
        : data.max_key_expires_in_seconds !== null ? `expire after ${formatDuration(data.max_key_expires_in_seconds)}` : 'do not expire unless asked to'}.`)
      await onSaved()
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      {formError && <Notice kind="error">{formError}</Notice>}
      {saved && <Notice kind="success">{saved}</Notice>}
      <EditableForm aria-label="Key pair expiry" validationErrors={errors} onEdit={() => setErrors((e) => Object.keys(e).length === 0 ? e : {})}
        onSubmit={(e) => { e.preventDefault(); void submit() }} className="form">
        <Field name="default_key_expires_in_seconds" label="New key pairs expire after (days)" inputMode="numeric" value={defaultDays} onChange={setDefaultDays}
          description="Used when whoever generates a key pair does not choose. Empty: they do not expire." />
        <Field name="max_key_expires_in_seconds" label="No key pair lives longer than (days)" inputMode="numeric" value={maxDays} onChange={setMaxDays}
          description="Longer lifetimes are refused. Empty: no limit." />
        <div className="actions">
          <Button type="submit" className="button button-primary" isDisabled={busy}>{busy ? 'Saving…' : 'Save key pair expiry'}</Button>
        </div>
      </EditableForm>
    </>
  )
}
