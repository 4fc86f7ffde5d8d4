import type { Command } from 'commander'
import { createAccount, listAccounts } from '../../domain/accounts.js'
import { setRequireAdminSecondFactor } from '../../domain/second-factor.js'
import { requireName, requirePlan } from '../../domain/validation.js'
import { presentAccount } from '../../contract/dto.js'
import { booleanOption, CLI_ACTOR, emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'

export function registerAccountCommands(program: Command): void {
  const account = program.command('account').description('manage accounts')
  withCommonOptions(account.command('create').description('create an account'))
    .requiredOption('--name <name>', 'account name')
    .option('--plan <plan>', 'enterprise or standard', 'enterprise')
    .action(async (opts: CommonOptions & { name: string; plan: string }) => {
      // Checked before the database is opened, so bad input creates no file.
      requireName(opts.name, 'account name')
      requirePlan(opts.plan)
      const created = await withServices(opts, (s) => createAccount(s, { ...opts, actor: CLI_ACTOR }), { mayCreateDatabase: true })
      emit(opts, presentAccount(created), () => `created ${created.plan} account ${JSON.stringify(created.name)}\nid: ${created.id}`)
    })

  withCommonOptions(account.command('list').description('list every account'))
    .action(async (opts: CommonOptions) => {
      const accounts = (await withServices(opts, (s) => listAccounts(s))).map(presentAccount)
      emit(opts, { items: accounts }, () => accounts.length === 0
        ? 'no accounts'
        : accounts.map((a) => `  ${a.id}  ${a.plan.padEnd(10)}  ${JSON.stringify(a.name)}  created ${a.created_at}`).join('\n'))
    })

  withCommonOptions(account.command('update').description("change an account's settings"))
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--require-admin-second-factor <true|false>', 'every admin must sign in with a second factor')
    .action(async (opts: CommonOptions & { account: string; requireAdminSecondFactor: string }) => {
      const required = booleanOption(opts.requireAdminSecondFactor, '--require-admin-second-factor')
      const updated = await withServices(opts, (s) => setRequireAdminSecondFactor(s, { accountId: opts.account, required, actor: CLI_ACTOR }))
      emit(opts, presentAccount(updated), () => `account ${updated.id}: admins ${updated.requireAdminSecondFactor ? 'must' : 'need not'} sign in with a second factor`)
    })
}
