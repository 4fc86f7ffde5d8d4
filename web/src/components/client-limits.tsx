import { useState } from 'react'
import { Button, Label, Radio, RadioGroup } from 'react-aria-components'
import { api, explain, fieldOf, problemOf, type Schemas } from '../api/client'
import { EditableForm, Field, Notice, SelectField } from './ui'

type Client = Schemas['Client']
type RatePer = NonNullable<Client['rate_limit']>['per']
type QuotaPer = NonNullable<Client['quota']>['per']
type Mode = Client['quota_mode']

const RATE_PERIODS = [{ value: 'second', label: 'per second' }, { value: 'minute', label: 'per minute' }, { value: 'hour', label: 'per hour' }]
const QUOTA_PERIODS = [{ value: 'day', label: 'per day (UTC)' }, { value: 'month', label: 'per month (UTC)' }]

/** "600 token requests per minute", or "none". */
export function describeRateLimit(r: Client['rate_limit']): string {
  return r === null ? 'none' : `${r.requests.toLocaleString()} token request${r.requests === 1 ? '' : 's'} per ${r.per}, on each server instance`
}

/** "100,000 tokens per month", or "none". */
export function describeQuota(q: Client['quota']): string {
  return q === null ? 'none' : `${q.tokens.toLocaleString()} token${q.tokens === 1 ? '' : 's'} per ${q.per} (UTC), across instances`
}

/** The client's limits, as rows of its facts list. */
export function LimitFacts({ client }: { client: Client }) {
  const limited = client.rate_limit !== null || client.quota !== null
  return (
    <>
      <dt>Rate limit</dt><dd data-testid="rate-limit">{describeRateLimit(client.rate_limit)}</dd>
      <dt>Quota</dt><dd data-testid="quota">{describeQuota(client.quota)}</dd>
      {limited && <><dt>Over a limit</dt><dd data-testid="quota-mode">{client.quota_mode === 'enforce' ? 'refused (429)' : 'monitored only: counted and audited, still issued'}</dd></>}
    </>
  )
}

type Errors = Partial<Record<'rate_limit' | 'quota', string>>

/** Whole numbers from 1 up, as typed; undefined when the text is not one. */
function countOf(text: string): number | undefined {
  return /^\d{1,10}$/.test(text.trim()) && Number(text) >= 1 ? Number(text) : undefined
}

/** Changes the client's rate limit, quota and what going over them does (PATCH /api/v1/clients/{id}). */
export function EditLimitsForm({ client, onCancel, onSaved }: { client: Client; onCancel: () => void; onSaved: (c: Client) => void }) {
  const [requests, setRequests] = useState(client.rate_limit ? String(client.rate_limit.requests) : '')
  const [ratePer, setRatePer] = useState<RatePer>(client.rate_limit?.per ?? 'minute')
  const [tokens, setTokens] = useState(client.quota ? String(client.quota.tokens) : '')
  const [quotaPer, setQuotaPer] = useState<QuotaPer>(client.quota?.per ?? 'month')
  const [mode, setMode] = useState<Mode>(client.quota_mode)
  const [errors, setErrors] = useState<Errors>({})
  const [formError, setFormError] = useState<string | undefined>()

  const save = async () => {
    setFormError(undefined)
    const rate = countOf(requests)
    const quota = countOf(tokens)
    const invalid: Errors = {
      ...(requests.trim() !== '' && rate === undefined ? { rate_limit: 'Enter a whole number of requests, or leave it empty for no rate limit.' } : {}),
      ...(tokens.trim() !== '' && quota === undefined ? { quota: 'Enter a whole number of tokens, or leave it empty for no quota.' } : {}),
    }
    setErrors(invalid)
    if (Object.keys(invalid).length > 0) return
    const { data, error, response } = await api.PATCH('/api/v1/clients/{id}', {
      params: { path: { id: client.id } },
      body: {
        rate_limit: rate === undefined ? null : { requests: rate, per: ratePer },
        quota: quota === undefined ? null : { tokens: quota, per: quotaPer },
        quota_mode: mode,
      },
    })
    if (data) return onSaved(data)
    const problem = problemOf(error, response)
    const field = fieldOf(problem)
    if (field === 'rate_limit' || field === 'quota') setErrors({ [field]: explain(problem) })
    else setFormError(explain(problem))
  }

  return (
    <EditableForm validationErrors={errors} onEdit={() => setErrors((e) => Object.keys(e).length === 0 ? e : {})} onSubmit={(e) => { e.preventDefault(); void save() }} className="form">
      {formError && <Notice kind="error">{formError}</Notice>}
      <div className="field-row">
        <Field name="rate_limit" label="Rate limit: token requests" value={requests} onChange={setRequests} inputMode="numeric" autoFocus
          description="Counted on each server instance. Empty: no rate limit." />
        <SelectField name="rate_limit_per" label="Window" value={ratePer} onChange={(v) => setRatePer(v as RatePer)} options={RATE_PERIODS} />
      </div>
      <div className="field-row">
        <Field name="quota" label="Quota: tokens" value={tokens} onChange={setTokens} inputMode="numeric"
          description="Counted across instances, a few seconds behind. Empty: no quota." />
        <SelectField name="quota_per" label="Window" value={quotaPer} onChange={(v) => setQuotaPer(v as QuotaPer)} options={QUOTA_PERIODS} />
      </div>
      <RadioGroup value={mode} onChange={(v) => setMode(v as Mode)} className="radio-group" name="quota_mode">
        <Label>Over a limit</Label>
        <Radio value="enforce" className="radio">Enforce: refuse the request (429 with Retry-After)</Radio>
        <Radio value="monitor" className="radio">Monitor: issue the token; count, audit and alert only, to size the limits first</Radio>
      </RadioGroup>
      <div className="actions">
        <Button className="button" onPress={onCancel}>Cancel</Button>
        <Button type="submit" className="button button-primary">Save limits</Button>
      </div>
    </EditableForm>
  )
}
