import type { Command } from 'commander'
import { resetSecondFactor } from '../../domain/second-factor.js'
import { createUser, getUser, listUsers, updateUser } from '../../domain/users.js'
import type { User } from '../../domain/types.js'
import { presentUser } from '../../contract/dto.js'
import { setUserPassword } from '../../domain/passwords.js'
import { readSecret } from '../read-secret.js'
import { booleanOption, CLI_ACTOR, emit, splitList, withCommonOptions, withServices, type CommonOptions } from '../context.js'

const describe = (u: User): string => [
  `user ${u.email} (${u.role})${u.disabled ? ' [disabled]' : ''}`,
  `id: ${u.id}`,
  `account: ${u.accountId}`,
  `permissions: ${u.permissions.join(',') || '(none)'}`,
  `scopes: ${u.scopes.join(',') || '(none)'}`,
].join('\n')

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage users')
  withCommonOptions(user.command('create').description('create a user in an account'))
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--email <email>', 'email address')
    .option('--role <role>', 'admin or member', 'member')
    .option('--permissions <list>', 'comma-separated: ui,api', 'ui,api')
    .option('--scopes <list>', 'comma-separated API scopes (an admin without any acts for the whole account)', '')
    .action(async (opts: CommonOptions & { account: string; email: string; role: string; permissions: string; scopes: string }) => {
      const created = await withServices(opts, (s) => createUser(
        s,
        { accountId: opts.account, email: opts.email, role: opts.role, permissions: splitList(opts.permissions), scopes: splitList(opts.scopes), actor: CLI_ACTOR },
      ))
      emit(opts, presentUser(created), () => `created ${describe(created)}`)
    })

  withCommonOptions(user.command('list').description("list an account's users"))
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: CommonOptions & { account: string }) => {
      const users = await withServices(opts, (s) => listUsers(s, { accountId: opts.account }))
      emit(opts, { items: users.map(presentUser) }, () => users.length === 0
        ? 'no users'
        : users.map((u) => `  ${u.id}  ${u.email}  ${u.role}  permissions ${u.permissions.join(',') || '(none)'}${u.disabled ? '  [disabled]' : ''}`).join('\n'))
    })

  withCommonOptions(user.command('show').description('show one user'))
    .requiredOption('--user <id>', 'user id')
    .action(async (opts: CommonOptions & { user: string }) => {
      const shown = await withServices(opts, (s) => getUser(s.store, opts.user))
      emit(opts, presentUser(shown), () => describe(shown))
    })

  withCommonOptions(user.command('update').description("change a user's permissions, scopes or state"))
    .requiredOption('--user <id>', 'user id')
    .option('--permissions <list>', 'comma-separated: ui,api (empty for none)')
    .option('--scopes <list>', 'comma-separated API scopes (empty for none)')
    .option('--disabled <bool>', 'true or false')
    .action(async (opts: CommonOptions & { user: string; permissions?: string; scopes?: string; disabled?: string }) => {
      const input = {
        userId: opts.user,
        actor: CLI_ACTOR,
        ...(opts.permissions === undefined ? {} : { permissions: splitList(opts.permissions) }),
        ...(opts.scopes === undefined ? {} : { scopes: splitList(opts.scopes) }),
        ...(opts.disabled === undefined ? {} : { disabled: booleanOption(opts.disabled, '--disabled') }),
      }
      const updated = await withServices(opts, (s) => updateUser(s, input))
      emit(opts, presentUser(updated), () => `updated ${describe(updated)}`)
    })

  withCommonOptions(user.command('set-password').description('set the password a user signs in with (read from stdin, or prompted on a terminal)'))
    .requiredOption('--user <id>', 'user id')
    .action(async (opts: CommonOptions & { user: string }) => {
      const password = await readSecret('New password: ')
      await withServices(opts, (s) => setUserPassword(s, { userId: opts.user, password, actor: CLI_ACTOR }))
      emit(opts, { id: opts.user, password_set: true }, () => `password set for user ${opts.user}; every session of the user was ended`)
    })

  withCommonOptions(user.command('reset-second-factor').description("turn off a user's second factor (a lost device); they sign in with the password, or enroll again"))
    .requiredOption('--user <id>', 'user id')
    .action(async (opts: CommonOptions & { user: string }) => {
      await withServices(opts, (s) => resetSecondFactor(s, { userId: opts.user, actor: CLI_ACTOR }))
      emit(opts, { id: opts.user, second_factor: false }, () => `second factor turned off for user ${opts.user}`)
    })
}
