import type { Command } from 'commander'
import { getClientByIdOrKeyPair, listClients } from '../../domain/clients.js'
import type { Client } from '../../domain/types.js'
import { formatDuration } from '../../duration.js'
import type { Services } from '../../services.js'
import { presentClient } from '../../contract/dto.js'
import { emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'

export const CLIENT_OPTION = ['--client <id>', "the client's id, or the client_id of one of its key pairs"] as const

/** The client, whichever of its ids the admin gave. */
export const clientOf = (s: Services, ref: string): Promise<Client> => getClientByIdOrKeyPair(s, ref)

function authentication(c: Client): string {
  if (c.publicJwk === null) return 'client secret'
  return c.secretAuth ? 'private_key_jwt or client secret' : 'private_key_jwt only'
}

export const describeClient = (c: Client): string => [
  `client ${JSON.stringify(c.name)} (${c.level}-level)`,
  `id: ${c.id}`,
  `account: ${c.accountId}`,
  ...(c.userId === null ? [] : [`acts as user: ${c.userId}`]),
  `scopes: ${c.scopes === null ? 'all (unrestricted)' : c.scopes.join(',') || '(none)'}`,
  `token lifetime: ${c.lifetimeSeconds === null ? "the endpoint's default" : formatDuration(c.lifetimeSeconds)}`,
  `signing: ${c.signingAlg ?? "the server's default"}; encryption: ${c.tokenEncryption ?? 'none'}`,
  `authentication: ${authentication(c)}`,
  `created: ${c.createdAt.toISOString()}`,
].join('\n')

/** `client list|show`, beside `client create`. */
export function registerClientManagementCommands(client: Command): void {
  withCommonOptions(client.command('list').description("list an account's clients"))
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: CommonOptions & { account: string }) => {
      const clients = await withServices(opts, (s) => listClients(s, { accountId: opts.account }))
      emit(opts, { items: clients.map(presentClient) }, () => clients.length === 0
        ? 'no clients'
        : clients.map((c) => `  ${c.id}  ${c.level.padEnd(12)}  ${JSON.stringify(c.name)}`).join('\n'))
    })

  withCommonOptions(client.command('show').description('show one client (keys list shows its key pairs)'))
    .requiredOption(...CLIENT_OPTION)
    .action(async (opts: CommonOptions & { client: string }) => {
      const shown = await withServices(opts, (s) => clientOf(s, opts.client))
      emit(opts, presentClient(shown), () => describeClient(shown))
    })
}
