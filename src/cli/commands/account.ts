import type { Command } from 'commander'
import { createAccount } from '../../domain/accounts.js'
import { requireName, requirePlan } from '../../domain/validation.js'
import { presentAccount } from '../../contract/dto.js'
import { CLI_ACTOR, emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'

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
}
