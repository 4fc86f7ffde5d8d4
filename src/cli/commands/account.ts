import type { Command } from 'commander'
import { createAccount, listAccounts } from '../../domain/accounts.js'
import { updateAccountSettings } from '../../domain/account-settings.js'
import { InvalidInput } from '../../domain/errors.js'
import { formatDuration } from '../../duration.js'
import { requireName, requirePlan } from '../../domain/validation.js'
import { presentAccount } from '../../contract/dto.js'
import { booleanOption, CLI_ACTOR, emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'
import { keyExpiresInOption } from './client.js'

/** A key pair lifetime setting: a duration, or `none` to clear it. */
const keyExpiryOrNone = (value: string, flag: string): number | null => (value === 'none' ? null : keyExpiresInOption(value, flag))

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

  withCommonOptions(account.command('update').description("change an account's settings (give at least one)"))
    .requiredOption('--account <id>', 'account id')
    .option('--require-admin-second-factor <true|false>', 'every admin must sign in with a second factor')
    .option('--default-key-expires-in <duration|none>', 'new key pairs expire after this long unless asked otherwise, e.g. 90d; none: they do not')
    .option('--max-key-expires-in <duration|none>', 'no new key pair may live longer, e.g. 365d; none: no limit')
    .action(async (opts: CommonOptions & { account: string; requireAdminSecondFactor?: string; defaultKeyExpiresIn?: string; maxKeyExpiresIn?: string }) => {
      // Every flag is read before the database is opened: one bad value changes nothing.
      const input = {
        accountId: opts.account, actor: CLI_ACTOR,
        ...(opts.requireAdminSecondFactor === undefined ? {} : { requireAdminSecondFactor: booleanOption(opts.requireAdminSecondFactor, '--require-admin-second-factor') }),
        ...(opts.defaultKeyExpiresIn === undefined ? {} : { defaultKeyExpiresIn: keyExpiryOrNone(opts.defaultKeyExpiresIn, '--default-key-expires-in') }),
        ...(opts.maxKeyExpiresIn === undefined ? {} : { maxKeyExpiresIn: keyExpiryOrNone(opts.maxKeyExpiresIn, '--max-key-expires-in') }),
      }
      if (Object.keys(input).length === 2) {
        throw new InvalidInput('KEYMINT_INVALID_INPUT', 'nothing to change: give --require-admin-second-factor, --default-key-expires-in or --max-key-expires-in')
      }
      const updated = await withServices(opts, (s) => updateAccountSettings(s, input))
      const expiry = (seconds: number | null, none: string) => (seconds === null ? none : formatDuration(seconds))
      emit(opts, presentAccount(updated), () => [
        `account ${updated.id}:`,
        `  admins ${updated.requireAdminSecondFactor ? 'must' : 'need not'} sign in with a second factor`,
        `  new key pairs expire after: ${expiry(updated.defaultKeyExpiresIn, updated.maxKeyExpiresIn === null ? 'never' : formatDuration(updated.maxKeyExpiresIn))}`,
        `  longest key pair lifetime: ${expiry(updated.maxKeyExpiresIn, 'no limit')}`,
      ].join('\n'))
    })
}
