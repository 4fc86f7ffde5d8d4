import { useState } from 'react'
import { Button, Checkbox, CheckboxGroup, Label, Radio, RadioGroup } from 'react-aria-components'
import { api, emptyFields, explain, fieldOf, problemOf, type Schemas } from '../api/client'
import { Confirm, EditableForm, EmptyState, Field, FormDialog, NotAllowed, Notice, PageTitle } from '../components/ui'
import { formatTime, parseScopes } from '../format'
import { useAbilities, useSession } from '../session'
import { useLoad } from '../use-load'

type User = Schemas['User']
type Permission = 'ui' | 'api'

function PermissionBoxes({ value, onChange }: { value: Permission[]; onChange: (v: Permission[]) => void }) {
  return (
    <CheckboxGroup value={value} onChange={(v) => onChange(v as Permission[])} className="checkbox-group" name="permissions">
      <Label>Permissions</Label>
      <Checkbox value="ui" className="checkbox"><span className="box" aria-hidden="true" />ui: may sign in to this dashboard</Checkbox>
      <Checkbox value="api" className="checkbox"><span className="box" aria-hidden="true" />api: may obtain tokens</Checkbox>
    </CheckboxGroup>
  )
}

export function Users() {
  const { admin } = useAbilities()
  const { signedIn } = useSession()
  const users = useLoad(() => api.GET('/api/v1/users'), [])
  // For the effect of a change on the user's clients; members and standard accounts may not list them.
  const clients = useLoad(() => api.GET('/api/v1/clients'), [])
  const [creating, setCreating] = useState(false)
  const [editing, setEditing] = useState<User | undefined>()
  const [notice, setNotice] = useState<string | undefined>()

  const clientsOf = (u: User) => clients.data?.items.filter((c) => c.level === 'user' && c.user_id === u.id).length

  return (
    <>
      <PageTitle>Users</PageTitle>
      <p>Who may sign in (<code>ui</code>) and obtain tokens (<code>api</code>). A user-level client gets tokens only while its user is enabled and has both.</p>
      {!admin && <NotAllowed>You can see the account's users; only admins create or change them.</NotAllowed>}
      {admin && <div className="actions"><Button className="button button-primary" onPress={() => setCreating(true)}>Create user</Button></div>}
      {notice && <Notice kind="success">{notice}</Notice>}
      {users.problem && <Notice kind="error">{users.problem.detail}</Notice>}
      {users.data && (users.data.items.length === 0 ? (
        <EmptyState title="No users yet.">{admin ? 'Click Create user to add one.' : 'An admin adds them.'}</EmptyState>
      ) : (
        <div className="table-wrap" role="region" aria-label="Users" tabIndex={0}>
          <table className="table table-stacking">
            <thead>
              <tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Permissions</th><th scope="col">Scopes</th><th scope="col">State</th>{admin && <th scope="col"><span className="offscreen">Actions</span></th>}</tr>
            </thead>
            <tbody>
              {users.data.items.map((u) => (
                <tr key={u.id}>
                  <td data-label="Email">{u.email}{u.id === signedIn.user.id && ' (you)'}</td>
                  <td data-label="Role">{u.role}</td>
                  <td data-label="Permissions">{u.permissions.join(', ') || <em>none</em>}</td>
                  <td data-label="Scopes">{u.scopes.join(' ') || <em>none</em>}</td>
                  <td data-label="State">{u.disabled ? <span className="badge badge-muted">disabled</span> : <span className="badge badge-ok">active</span>}</td>
                  {admin && <td data-label=""><Button className="button button-small" onPress={() => setEditing(u)} aria-label={`Change ${u.email}`}>Change</Button></td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <FormDialog title="Create a user" isOpen={creating} onOpenChange={setCreating}>
        <CreateUserForm onCancel={() => setCreating(false)} onCreated={(u) => { setCreating(false); setNotice(`${u.email} was created.`); void users.reload() }} />
      </FormDialog>
      <FormDialog title={editing ? `Change ${editing.email}` : 'Change user'} isOpen={editing !== undefined} onOpenChange={(open) => { if (!open) setEditing(undefined) }}>
        {editing && <EditUserForm user={editing} clientCount={clientsOf(editing)} onCancel={() => setEditing(undefined)}
          onSaved={(u) => { setEditing(undefined); setNotice(`${u.email} was changed.`); void users.reload() }} />}
      </FormDialog>
    </>
  )
}

type CreateErrors = Partial<Record<'email' | 'scopes', string>>

function CreateUserForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (u: User) => void }) {
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<'admin' | 'member'>('member')
  const [permissions, setPermissions] = useState<Permission[]>(['ui', 'api'])
  const [scopes, setScopes] = useState('')
  const [errors, setErrors] = useState<CreateErrors>({})
  const [formError, setFormError] = useState<string | undefined>()

  const submit = async () => {
    setFormError(undefined)
    const empty = emptyFields({ email })
    setErrors(empty)
    if (Object.keys(empty).length > 0) return
    const { data, error, response } = await api.POST('/api/v1/users', { body: { email, role, permissions, scopes: parseScopes(scopes) } })
    if (data) return onCreated(data)
    const problem = problemOf(error, response)
    const field = fieldOf(problem)
    if (field === 'email' || /email/i.test(problem.detail)) setErrors({ email: explain(problem) })
    else if (field === 'scopes' || /scope/i.test(problem.detail)) setErrors({ scopes: explain(problem) })
    else setFormError(explain(problem))
  }

  return (
    <EditableForm validationErrors={errors} onEdit={() => setErrors((e) => Object.keys(e).length === 0 ? e : {})} onSubmit={(e) => { e.preventDefault(); void submit() }} className="form">
      {formError && <Notice kind="error">{formError}</Notice>}
      <Field name="email" label="Email" type="email" isRequired value={email} onChange={setEmail} autoFocus />
      <RadioGroup value={role} onChange={(v) => setRole(v as 'admin' | 'member')} className="radio-group" name="role">
        <Label>Role</Label>
        <Radio value="member" className="radio">Member: sees the account, changes nothing</Radio>
        <Radio value="admin" className="radio">Admin: manages users, clients and key pairs</Radio>
      </RadioGroup>
      <PermissionBoxes value={permissions} onChange={setPermissions} />
      <Field name="scopes" label="Scopes" value={scopes} onChange={setScopes} description="Scopes the user's clients may be granted, separated by spaces or commas." />
      <div className="actions">
        <Button className="button" onPress={onCancel}>Cancel</Button>
        <Button type="submit" className="button button-primary">Create user</Button>
      </div>
    </EditableForm>
  )
}

function EditUserForm({ user, clientCount, onCancel, onSaved }: { user: User; clientCount: number | undefined; onCancel: () => void; onSaved: (u: User) => void }) {
  const [permissions, setPermissions] = useState<Permission[]>([...user.permissions])
  const [scopes, setScopes] = useState(user.scopes.join(' '))
  const [disabled, setDisabled] = useState(user.disabled)
  const [confirming, setConfirming] = useState(false)
  const [errors, setErrors] = useState<Partial<Record<'scopes', string>>>({})
  const [formError, setFormError] = useState<string | undefined>()

  const cutsOff = (!user.disabled && disabled) || user.permissions.some((p) => !permissions.includes(p))
  const clients = clientCount === undefined ? 'its user-level clients' : `${clientCount} user-level client${clientCount === 1 ? '' : 's'}`

  const save = async () => {
    setConfirming(false)
    setErrors({})
    setFormError(undefined)
    const { data, error, response } = await api.PATCH('/api/v1/users/{id}', {
      params: { path: { id: user.id } },
      body: { permissions, scopes: parseScopes(scopes), ...(disabled !== user.disabled ? { disabled } : {}) },
    })
    if (data) return onSaved(data)
    const problem = problemOf(error, response)
    if (fieldOf(problem) === 'scopes' || /scope/i.test(problem.detail)) setErrors({ scopes: explain(problem) })
    else setFormError(explain(problem))
  }

  return (
    <EditableForm validationErrors={errors} onEdit={() => setErrors((e) => Object.keys(e).length === 0 ? e : {})} onSubmit={(e) => { e.preventDefault(); if (cutsOff) setConfirming(true); else void save() }} className="form">
      {formError && <Notice kind="error">{formError}</Notice>}
      <p>Role: {user.role}. Created {formatTime(user.created_at)}.</p>
      <PermissionBoxes value={permissions} onChange={setPermissions} />
      <Field name="scopes" label="Scopes" value={scopes} onChange={setScopes} description="Separated by spaces or commas." />
      <Checkbox isSelected={disabled} onChange={setDisabled} className="checkbox"><span className="box" aria-hidden="true" />Disabled</Checkbox>
      <p className="hint">Disabling the user, or taking away <code>ui</code> or <code>api</code>, ends the tokens of {clients} for good.</p>
      <div className="actions">
        <Button className="button" onPress={onCancel}>Cancel</Button>
        <Button type="submit" className={cutsOff ? 'button button-danger' : 'button button-primary'}>Save</Button>
      </div>
      <Confirm title={disabled && !user.disabled ? `Disable ${user.email}?` : `Take permissions from ${user.email}?`} confirmLabel="Save" destructive
        isOpen={confirming} onOpenChange={setConfirming} onConfirm={save}>
        <p>{disabled && !user.disabled ? `${user.email} will no longer sign in, and` : 'Without both ui and api,'} {clients} of {user.email} get no new tokens.</p>
        <p><strong>Every token those clients were issued stops being accepted, for good:</strong> enabling the user or giving the permissions back later revives none of them; only tokens issued afterwards work.</p>
      </Confirm>
    </EditableForm>
  )
}
