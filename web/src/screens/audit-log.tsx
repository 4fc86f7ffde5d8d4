import { useState } from 'react'
import { Button, Form } from 'react-aria-components'
import { api } from '../api/client'
import { EmptyState, Field, Notice, NotAllowed, PageTitle, SelectField } from '../components/ui'
import { formatTime } from '../format'
import { useAbilities } from '../session'
import { useLoad } from '../use-load'

const PAGE_SIZES = ['25', '50', '100'].map((n) => ({ value: n, label: `${n} events` }))

/** The account's audit log, newest first, a page at a time. */
export function AuditLog() {
  const { admin } = useAbilities()
  const [since, setSince] = useState('')
  const [limit, setLimit] = useState('25')
  const [action, setAction] = useState('')
  const [actor, setActor] = useState('')
  // The cursors of the pages seen so far: back is a pop, on is a push.
  const [cursors, setCursors] = useState<string[]>([])
  const [applied, setApplied] = useState<{ since: string; limit: string }>({ since: '', limit: '25' })
  const cursor = cursors.at(-1)
  const sinceIso = applied.since === '' ? undefined : new Date(applied.since).toISOString()
  const page = useLoad(() => api.GET('/api/v1/audit-events', {
    params: { query: { limit: Number(applied.limit), ...(sinceIso ? { since: sinceIso } : {}), ...(cursor ? { cursor } : {}) } },
  }), [applied, cursor])

  if (!admin) {
    return <><PageTitle>Audit log</PageTitle><NotAllowed>Only admins read the audit log: the API refuses it to members.</NotAllowed></>
  }
  const shown = (page.data?.items ?? []).filter((e) =>
    (action === '' || e.action.includes(action.trim())) && (actor === '' || e.actor.includes(actor.trim())))

  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <p>Who did what, and when: key pairs generated, rotated and revoked, sign-ins, permission changes, refused authentications. Never a secret or a token.</p>
      <Form className="filters" aria-label="Which events" onSubmit={(e) => { e.preventDefault(); setCursors([]); setApplied({ since, limit }) }}>
        <Field name="since" label="Since" type="datetime-local" value={since} onChange={setSince} />
        <SelectField name="limit" label="Page size" value={limit} onChange={setLimit} options={PAGE_SIZES} />
        <Button type="submit" className="button">Show events</Button>
      </Form>
      <div className="filters" role="group" aria-label="Filter this page">
        <Field name="action" label="Action contains" value={action} onChange={setAction} description="e.g. key_pair or user." />
        <Field name="actor" label="Actor contains" value={actor} onChange={setActor} description="e.g. user: or client:" />
      </div>
      {page.problem && <Notice kind="error">{page.problem.detail}</Notice>}
      {page.data && (shown.length === 0 ? (
        <EmptyState title="No events here.">{page.data.items.length > 0 ? 'No event on this page matches the filters: clear them, or look at older events.' : 'Nothing happened in this period yet. Pick an earlier "Since", or clear it.'}</EmptyState>
      ) : (
        <div className="table-wrap" role="region" aria-label="Audit events" tabIndex={0}>
          <table className="table table-stacking">
            <thead>
              <tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Reason</th><th scope="col">Count</th></tr>
            </thead>
            <tbody>
              {shown.map((e) => (
                <tr key={e.id}>
                  <td data-label="Time">{formatTime(e.time)}</td>
                  <td data-label="Actor"><code>{e.actor}</code></td>
                  <td data-label="Action">{e.action}</td>
                  <td data-label="Target">{e.target && <code>{e.target}</code>}</td>
                  <td data-label="Reason">{e.reason}</td>
                  <td data-label="Count">{e.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <div className="actions">
        <Button className="button" isDisabled={cursors.length === 0} onPress={() => setCursors((c) => c.slice(0, -1))}>Newer events</Button>
        <Button className="button" isDisabled={!page.data?.next_cursor} onPress={() => { const next = page.data?.next_cursor; if (next) setCursors((c) => [...c, next]) }}>Older events</Button>
      </div>
    </>
  )
}
