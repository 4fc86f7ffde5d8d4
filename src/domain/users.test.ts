import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeDeps } from '../../test/fakes/deps.js'
import { createAccount } from './accounts.js'
import { Conflict, InvalidInput, NotFound } from './errors.js'
import type { Permission } from './types.js'
import { createUser, getUser, issuedBeforeCutOff, updateUser, userMayObtainTokens, type UserUpdateInput } from './users.js'

async function world() {
  const deps = fakeDeps()
  const account = await createAccount(deps, { name: 'acme' })
  return { deps, accountId: account.id }
}

const audited = async (deps: ReturnType<typeof fakeDeps>, action: string) =>
  (await deps.store.audit.list({ limit: 100 })).filter((e) => e.action === action)

test('createUser: a member with ui and api by default, email in lower case, audited', async () => {
  const { deps, accountId } = await world()
  const user = await createUser(deps, { accountId, email: '  Dev@Example.COM ', scopes: ['b:read', 'a:read', 'a:read'], actor: 'cli' })
  assert.deepEqual(
    { email: user.email, role: user.role, permissions: user.permissions, scopes: user.scopes, disabled: user.disabled, cut: user.tokensCutOffAt },
    { email: 'dev@example.com', role: 'member', permissions: ['api', 'ui'], scopes: ['a:read', 'b:read'], disabled: false, cut: null },
  )
  assert.deepEqual(await getUser(deps.store, user.id), user)
  const [event] = await audited(deps, 'user.created')
  assert.deepEqual([event?.actor, event?.target, event?.details], ['cli', user.id, { role: 'member', permissions: ['api', 'ui'], scopes: ['a:read', 'b:read'] }])
})

test('createUser refuses bad input, a taken email and an unknown account, and writes nothing', async () => {
  const { deps, accountId } = await world()
  await createUser(deps, { accountId, email: 'taken@example.com' })
  const cases: [string, Parameters<typeof createUser>[1], (err: unknown) => boolean][] = [
    ['email taken, whatever its case', { accountId, email: 'Taken@Example.com' }, (e) => e instanceof Conflict && e.code === 'KEYMINT_EMAIL_TAKEN'],
    ['unknown account', { accountId: '00000000-0000-4000-8000-000000000000', email: 'a@example.com' }, (e) => e instanceof NotFound && e.code === 'KEYMINT_ACCOUNT_NOT_FOUND'],
    ['account id not a UUID', { accountId: 'acme', email: 'a@example.com' }, (e) => e instanceof InvalidInput],
    ['not an email', { accountId, email: 'nobody' }, (e) => e instanceof InvalidInput],
    ['bad role', { accountId, email: 'a@example.com', role: 'root' }, (e) => e instanceof InvalidInput],
    ['bad permission', { accountId, email: 'a@example.com', permissions: ['ui', 'sudo'] }, (e) => e instanceof InvalidInput],
    ['reserved scope "all"', { accountId, email: 'a@example.com', scopes: ['all'] }, (e) => e instanceof InvalidInput],
    ['malformed scope', { accountId, email: 'a@example.com', scopes: ['a b'] }, (e) => e instanceof InvalidInput],
  ]
  for (const [name, input, expected] of cases) {
    const before = deps.store.dump()
    await assert.rejects(createUser(deps, input), expected, name)
    assert.deepEqual(deps.store.dump(), before, `${name}: nothing written`)
  }
  const other = await createAccount(deps, { name: 'other' })
  // The same email is free in another account.
  await createUser(deps, { accountId: other.id, email: 'taken@example.com' })
})

test('updateUser changes what it names, and audits before and after of what changed only', async () => {
  const { deps, accountId } = await world()
  const user = await createUser(deps, { accountId, email: 'a@example.com', scopes: ['a'] })
  deps.clock.advance(60)
  const updated = await updateUser(deps, { userId: user.id, scopes: ['b', 'a'], actor: 'user:x' })
  assert.deepEqual([updated.scopes, updated.permissions, updated.disabled], [['a', 'b'], ['api', 'ui'], false])
  assert.deepEqual(updated.updatedAt, deps.clock.now())
  const [event] = await audited(deps, 'user.updated')
  assert.deepEqual([event?.actor, event?.details], ['user:x', { scopes: { before: ['a'], after: ['a', 'b'] } }])
  await updateUser(deps, { userId: user.id, scopes: ['a', 'b'], permissions: ['ui', 'api'] })
  assert.equal((await audited(deps, 'user.updated')).length, 1, 'no event when nothing changed')
  await assert.rejects(updateUser(deps, { userId: '00000000-0000-4000-8000-000000000000', disabled: true }), NotFound)
  await assert.rejects(updateUser(deps, { userId: 'x', disabled: true }), InvalidInput)
  await assert.rejects(updateUser(deps, { userId: user.id, permissions: ['root'] }), InvalidInput)
})

test('updateUser cuts a user off only when it loses the right to act', async () => {
  type State = { disabled: boolean; permissions: Permission[] }
  const ACTIVE: State = { disabled: false, permissions: ['api', 'ui'] }
  const cases: [string, State, Omit<UserUpdateInput, 'userId'>, boolean][] = [
    ['disabled', ACTIVE, { disabled: true }, true],
    ['loses api', ACTIVE, { permissions: ['ui'] }, true],
    ['loses ui', ACTIVE, { permissions: ['api'] }, true],
    ['loses both', ACTIVE, { permissions: [] }, true],
    ['disabled and loses api at once', ACTIVE, { disabled: true, permissions: ['ui'] }, true],
    ['scopes change only', ACTIVE, { scopes: ['x'] }, false],
    ['stays enabled', ACTIVE, { disabled: false, permissions: ['ui', 'api'] }, false],
    ['enabled again', { disabled: true, permissions: ['api', 'ui'] }, { disabled: false }, false],
    ['gains api back', { disabled: false, permissions: ['ui'] }, { permissions: ['ui', 'api'] }, false],
    ['could not act anyway, disabled', { disabled: false, permissions: ['ui'] }, { disabled: true }, false],
    ['already disabled, loses api', { disabled: true, permissions: ['api', 'ui'] }, { permissions: ['ui'] }, false],
  ]
  for (const [name, state, change, cut] of cases) {
    const { deps, accountId } = await world()
    const user = await createUser(deps, { accountId, email: 'a@example.com', permissions: state.permissions })
    if (state.disabled) await deps.store.users.update(user.id, { disabled: true, updatedAt: deps.clock.now() })
    deps.clock.advance(30)
    const updated = await updateUser(deps, { userId: user.id, ...change })
    assert.deepEqual(updated.tokensCutOffAt, cut ? deps.clock.now() : null, name)
    assert.deepEqual((await deps.store.users.findById(user.id))?.tokensCutOffAt, updated.tokensCutOffAt, `${name}: stored`)
  }
})

test('a cut-off is permanent: enabling again keeps it; losing the right again moves it to then', async () => {
  const { deps, accountId } = await world()
  const user = await createUser(deps, { accountId, email: 'a@example.com' })
  const first = (await updateUser(deps, { userId: user.id, disabled: true })).tokensCutOffAt
  assert.ok(first)
  deps.clock.advance(60)
  assert.deepEqual((await updateUser(deps, { userId: user.id, disabled: false })).tokensCutOffAt, first)
  deps.clock.advance(60)
  assert.deepEqual((await updateUser(deps, { userId: user.id, permissions: ['ui'] })).tokensCutOffAt, deps.clock.now())
  const since = new Date(first.getTime() + 1)
  assert.deepEqual(await deps.store.users.listCutOffForAccount(accountId, since), [{ id: user.id, tokensCutOffAt: deps.clock.now() }])
})

test('issuedBeforeCutOff: a token of the cut-off second or earlier stays refused; a later one is not', () => {
  const cutOff = new Date(Date.UTC(2030, 0, 1, 0, 0, 10, 500))
  const at = Math.floor(cutOff.getTime() / 1000)
  assert.equal(issuedBeforeCutOff({ tokensCutOffAt: null }, at), false, 'never cut off')
  assert.equal(issuedBeforeCutOff({ tokensCutOffAt: cutOff }, at - 1), true)
  assert.equal(issuedBeforeCutOff({ tokensCutOffAt: cutOff }, at), true, 'the same second counts as before')
  assert.equal(issuedBeforeCutOff({ tokensCutOffAt: cutOff }, at + 1), false)
  assert.equal(issuedBeforeCutOff({ tokensCutOffAt: new Date(at * 1000) }, at), true, 'exactly at the cut-off')
})

test('userMayObtainTokens: active, with both ui and api', () => {
  const cases: [boolean, Permission[], boolean][] = [
    [false, ['api', 'ui'], true], [true, ['api', 'ui'], false], [false, ['ui'], false], [false, ['api'], false], [false, [], false],
  ]
  for (const [disabled, permissions, expected] of cases) assert.equal(userMayObtainTokens({ disabled, permissions }), expected, `${disabled} ${permissions.join()}`)
})
