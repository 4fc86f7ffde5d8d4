import type { Command } from 'commander'
import { createApi, listApis } from '../../domain/apis.js'
import type { Api } from '../../domain/types.js'
import { CLI_ACTOR, defaultAudiences, emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'

const present = (a: Api) => ({ id: a.id, account_id: a.accountId, identifier: a.identifier, name: a.name, created_at: a.createdAt.toISOString() })

export function registerApiCommands(program: Command): void {
  const api = program.command('api').description("manage an account's APIs (token audiences)")
  withCommonOptions(api.command('create').description('register an API; tokens for it are requested with resource=<identifier>'))
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--identifier <uri>', 'absolute URI, e.g. https://api.example.com')
    .option('--name <name>', 'display name (default: the identifier)')
    .action(async (opts: CommonOptions & { account: string; identifier: string; name?: string }) => {
      const created = await withServices(opts, (s, config) => createApi({ ...s, defaultAudiences: defaultAudiences(config) }, {
        accountId: opts.account, identifier: opts.identifier, ...(opts.name === undefined ? {} : { name: opts.name }), actor: CLI_ACTOR,
      }))
      emit(opts, present(created), () => `registered API ${created.identifier} (id ${created.id})`)
    })
  withCommonOptions(api.command('list').description("list an account's APIs"))
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: CommonOptions & { account: string }) => {
      const apis = await withServices(opts, (s) => listApis(s, { accountId: opts.account }))
      emit(opts, { apis: apis.map(present) }, () => apis.length === 0 ? 'no APIs registered' : apis.map((a) => `  ${a.identifier}  ${a.name}  (id ${a.id})`).join('\n'))
    })
}
