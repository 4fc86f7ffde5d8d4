import { useState } from 'react'
import { Button, Checkbox, CheckboxGroup, FieldError, Label } from 'react-aria-components'
import { api, emptyFields, explain, fieldOf, problemOf } from '../api/client'
import type { paths } from '../api/schema'
import { Confirm, CopyButton, EditableForm, EmptyState, Field, FormDialog, NotAllowed, Notice } from '../components/ui'
import { formatTime } from '../format'
import { useAbilities } from '../session'
import { useLoad } from '../use-load'

type Webhook = paths['/api/v1/webhooks']['get']['responses'][200]['content']['application/json']['items'][number]
type EventType = Webhook['events'][number]
type Delivery = paths['/api/v1/webhooks/{id}/deliveries']['get']['responses'][200]['content']['application/json']['items'][number]

// Every event an endpoint may pick; typed by the API's own list, so a new event needs a label here.
const EVENT_LABELS: Record<EventType, string> = {
  'key_pair.generated': 'A key pair was generated',
  'key_pair.rotated': 'A key pair was rotated',
  'key_pair.rotation_finished': 'A rotation was finished',
  'key_pair.rotation_cancelled': 'A rotation was cancelled',
  'key_pair.revoked': 'Key pairs were revoked',
  'key_pair.expiring': 'A key pair expires in 30, 7 or 1 days',
  'key_pair.expired': 'A key pair expired',
  'user.disabled': 'A user was disabled',
  'client.rate_limit_reached': "A client reached its rate limit",
  'client.quota_reached': 'A client reached its quota',
}
const EVENTS = Object.keys(EVENT_LABELS) as EventType[]

/** Signed webhooks: where keymint tells an account's systems about changes to its credentials. */
export function WebhooksTab() {
  const { admin } = useAbilities()
  if (!admin) {
    return (
      <>
        <h2>Webhooks</h2>
        <NotAllowed>Only admins see and register webhook endpoints.</NotAllowed>
      </>
    )
  }
  return <Webhooks />
}

function Webhooks() {
  const endpoints = useLoad(() => api.GET('/api/v1/webhooks'), [])
  const [registering, setRegistering] = useState(false)
  const [registered, setRegistered] = useState<{ webhook: Webhook; secret: string } | undefined>()
  const [deleting, setDeleting] = useState<Webhook | undefined>()
  const [showing, setShowing] = useState<Webhook | undefined>()
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string } | undefined>()

  const sendTest = async (w: Webhook) => {
    const { data, error, response } = await api.POST('/api/v1/webhooks/{id}/test', { params: { path: { id: w.id } } })
    setNotice(data ? { kind: 'success', text: `A test event is on its way to ${w.url}.` } : { kind: 'error', text: explain(problemOf(error, response)) })
    if (data) setShowing(w)
  }

  const remove = async () => {
    if (!deleting) return
    const { error, response } = await api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id: deleting.id } } })
    setNotice(response.ok ? { kind: 'success', text: `${deleting.url} no longer receives events.` } : { kind: 'error', text: explain(problemOf(error, response)) })
    if (showing?.id === deleting.id) setShowing(undefined)
    setDeleting(undefined)
    void endpoints.reload()
  }

  return (
    <>
      <h2>Webhooks</h2>
      <p>
        keymint POSTs each chosen event to the endpoint, signed with its secret as Standard Webhooks describes
        (<code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>), and retries for a day until it answers 2xx.
      </p>
      <div className="actions"><Button className="button button-primary" onPress={() => setRegistering(true)}>Add endpoint</Button></div>
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      {registered && <NewSecret {...registered} onDone={() => setRegistered(undefined)} />}
      {endpoints.problem && <Notice kind="error">{endpoints.problem.detail}</Notice>}
      {endpoints.data && (endpoints.data.items.length === 0 ? (
        <EmptyState title="No webhook endpoints yet.">Click Add endpoint to have keymint tell your systems about rotations and revocations.</EmptyState>
      ) : (
        <div className="table-wrap" role="region" aria-label="Webhook endpoints" tabIndex={0}>
          <table className="table table-stacking">
            <thead>
              <tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Added</th><th scope="col"><span className="offscreen">Actions</span></th></tr>
            </thead>
            <tbody>
              {endpoints.data.items.map((w) => (
                <tr key={w.id}>
                  <td data-label="URL" className="wrap"><code>{w.url}</code></td>
                  <td data-label="Events">{w.events.join(', ')}</td>
                  <td data-label="Added">{formatTime(w.created_at)}</td>
                  <td data-label="">
                    <span className="row-actions">
                      <Button className="button button-small" onPress={() => void sendTest(w)} aria-label={`Send test event to ${w.url}`}>Send test event</Button>
                      <Button className="button button-small" onPress={() => setShowing(w)} aria-label={`Deliveries to ${w.url}`}>Deliveries</Button>
                      <Button className="button button-small button-danger" onPress={() => setDeleting(w)} aria-label={`Delete ${w.url}`}>Delete</Button>
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      {showing && <Deliveries key={showing.id} webhook={showing} onClose={() => setShowing(undefined)} />}
      <FormDialog title="Add a webhook endpoint" isOpen={registering} onOpenChange={setRegistering}>
        <RegisterForm onCancel={() => setRegistering(false)}
          onRegistered={(r) => { setRegistering(false); setNotice(undefined); setRegistered(r); void endpoints.reload() }} />
      </FormDialog>
      <Confirm title={`Delete ${deleting?.url ?? 'this endpoint'}?`} confirmLabel="Delete" destructive
        isOpen={deleting !== undefined} onOpenChange={(open) => { if (!open) setDeleting(undefined) }} onConfirm={remove}>
        <p>It receives no more events, its delivery log is deleted, and what was not delivered yet is not sent.</p>
      </Confirm>
    </>
  )
}

/** The endpoint's signing secret, right after it was registered: the only time it can be seen. */
function NewSecret({ webhook, secret, onDone }: { webhook: Webhook; secret: string; onDone: () => void }) {
  return (
    <section className="card new-key-pair" aria-labelledby="new-webhook-title">
      <h3 id="new-webhook-title">Signing secret for {webhook.url}</h3>
      <p className="warning-text">Copy the secret now: it is shown only this once. Your receiver checks each delivery's signature with it.</p>
      <dl className="credentials">
        <div className="credential">
          <dt id="new-webhook-secret-label">Secret</dt>
          <dd><code className="secret" data-testid="new-webhook-secret" aria-labelledby="new-webhook-secret-label">{secret}</code> <CopyButton value={secret} label="Copy the signing secret" /></dd>
        </div>
      </dl>
      <div className="actions"><Button className="button" onPress={onDone}>I have copied it</Button></div>
    </section>
  )
}

function RegisterForm({ onCancel, onRegistered }: { onCancel: () => void; onRegistered: (r: { webhook: Webhook; secret: string }) => void }) {
  const [url, setUrl] = useState('')
  const [events, setEvents] = useState<EventType[]>(['key_pair.rotated', 'key_pair.revoked'])
  const [errors, setErrors] = useState<Partial<Record<'url' | 'events', string>>>({})
  const [formError, setFormError] = useState<string | undefined>()

  const submit = async () => {
    setFormError(undefined)
    const empty: Partial<Record<'url' | 'events', string>> = { ...emptyFields({ url }), ...(events.length === 0 ? { events: 'Pick at least one event.' } : {}) }
    setErrors(empty)
    if (Object.keys(empty).length > 0) return
    const { data, error, response } = await api.POST('/api/v1/webhooks', { body: { url, events } })
    if (data) return onRegistered(data)
    const problem = problemOf(error, response)
    if (fieldOf(problem) === 'url' || /url|https|loopback/i.test(problem.detail)) setErrors({ url: explain(problem).replace(/^Url /, 'The URL ') })
    else setFormError(explain(problem))
  }

  return (
    <EditableForm validationErrors={errors} onEdit={() => setErrors((e) => Object.keys(e).length === 0 ? e : {})} onSubmit={(e) => { e.preventDefault(); void submit() }} className="form">
      {formError && <Notice kind="error">{formError}</Notice>}
      <Field name="url" label="Endpoint URL" type="url" isRequired value={url} onChange={setUrl} autoFocus
        placeholder="https://hooks.example.com/keymint" description="An https URL that answers 2xx to a POST." />
      <CheckboxGroup value={events} onChange={(v) => setEvents(v as EventType[])} className="checkbox-group" name="events" isInvalid={errors.events !== undefined}>
        <Label>Events</Label>
        {EVENTS.map((e) => (
          <Checkbox key={e} value={e} className="checkbox"><span className="box" aria-hidden="true" /><span>{EVENT_LABELS[e]} (<code>{e}</code>)</span></Checkbox>
        ))}
        <FieldError className="field-error">{errors.events}</FieldError>
      </CheckboxGroup>
      <div className="actions">
        <Button className="button" onPress={onCancel}>Cancel</Button>
        <Button type="submit" className="button button-primary">Add endpoint</Button>
      </div>
    </EditableForm>
  )
}

function deliveryState(d: Delivery) {
  if (d.state === 'delivered') return <span className="badge badge-ok">delivered</span>
  if (d.state === 'failed') return <span className="badge badge-bad">failed</span>
  return <><span className="badge badge-warning">pending</span>{d.next_attempt_at && <> next try {formatTime(d.next_attempt_at)}</>}</>
}

/** One endpoint's delivery log, newest first. */
function Deliveries({ webhook, onClose }: { webhook: Webhook; onClose: () => void }) {
  const log = useLoad(() => api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: webhook.id }, query: { limit: 50 } } }), [webhook.id])
  return (
    <section className="card" aria-labelledby="deliveries-title">
      <h3 id="deliveries-title">Deliveries to <span className="wrap">{webhook.url}</span></h3>
      <div className="actions">
        <Button className="button button-small" onPress={() => void log.reload()}>Refresh</Button>
        <Button className="button button-small" onPress={onClose}>Close</Button>
      </div>
      {log.problem && <Notice kind="error">{log.problem.detail}</Notice>}
      {log.data && (log.data.items.length === 0 ? (
        <EmptyState title="Nothing sent yet.">Deliveries appear here when a chosen event happens, or after Send test event.</EmptyState>
      ) : (
        <div className="table-wrap" role="region" aria-label={`Deliveries to ${webhook.url}`} tabIndex={0}>
          <table className="table table-stacking">
            <thead>
              <tr><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Created</th></tr>
            </thead>
            <tbody>
              {log.data.items.map((d) => (
                <tr key={d.id} data-state={d.state}>
                  <td data-label="Event"><code>{d.event_type}</code></td>
                  <td data-label="State">{deliveryState(d)}</td>
                  <td data-label="Attempts">{d.attempts}</td>
                  <td data-label="Last answer">{d.last_status === null ? (d.last_error ?? '–') : `HTTP ${d.last_status}`}</td>
                  <td data-label="Created">{formatTime(d.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  )
}
