import type { Command } from 'commander'
import { deleteClient, disableClient, enableClient } from '../../domain/client-lifecycle.js'
import { getClientByIdOrKeyPair, listClients, updateClient, type ClientUpdateInput } from '../../domain/clients.js'
import { InvalidInput } from '../../domain/errors.js'
import type { Client } from '../../domain/types.js'
import { formatDuration } from '../../duration.js'
import type { Services } from '../../services.js'
import { presentClient } from '../../contract/dto.js'
import { booleanOption, CLI_ACTOR, emit, splitList, withCommonOptions, withServices, type CommonOptions } from '../context.js'
import { durationOption, limitInput, limitLines, readKeyFile, type LimitOptions } from './client.js'

export const CLIENT_OPTION = ['--client <id>', "the client's id, or the client_id of one of its key pairs"] as const

/** The client, whichever of its ids the admin gave. */
export const clientOf = (s: Services, ref: string): Promise<Client> => getClientByIdOrKeyPair(s, ref)

function authentication(c: Client): string {
  if (c.publicJwk === null) return 'client secret'
  return c.secretAuth ? 'private_key_jwt or client secret' : 'private_key_jwt only'
}

export const describeClient = (c: Client): string => [
  `client ${JSON.stringify(c.name)} (${c.level}-level)${c.disabled ? ' [disabled]' : ''}`,
  `id: ${c.id}`,
  `account: ${c.accountId}`,
  ...(c.userId === null ? [] : [`acts as user: ${c.userId}`]),
  `scopes: ${c.scopes === null ? 'all (unrestricted)' : c.scopes.join(',') || '(none)'}`,
  `token lifetime: ${c.lifetimeSeconds === null ? "the endpoint's default" : formatDuration(c.lifetimeSeconds)}`,
  `signing: ${c.signingAlg ?? "the server's default"}; encryption: ${c.tokenEncryption ?? 'none'}`,
  `authentication: ${authentication(c)}`,
  `tokens: ${c.requireDPoP ? 'DPoP-bound only (RFC 9449)' : 'bearer, or DPoP-bound when asked with a proof'}`,
  ...limitLines(c),
  `created: ${c.createdAt.toISOString()}`,
].join('\n')

interface UpdateOptions extends CommonOptions, LimitOptions {
  client: string
  name?: string
  scopes?: string
  lifetime?: string
  encrypt?: string
  alg?: string
  publicKey?: string
  allowSecret?: string
  requireDpop?: string
}

/** The flags as PATCH /api/v1/clients/{id} fields; an empty value clears the setting. */
function updateInput(opts: UpdateOptions): Omit<ClientUpdateInput, 'clientId'> {
  const cleared = (value: string) => value.trim() === ''
  const input: Omit<ClientUpdateInput, 'clientId'> = {
    actor: CLI_ACTOR,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    // `all` is what an unrestricted client reports as its scope; '' is no scope at all.
    ...(opts.scopes === undefined ? {} : { scopes: opts.scopes.trim() === 'all' ? null : splitList(opts.scopes) }),
    ...(opts.lifetime === undefined ? {} : { lifetimeSeconds: cleared(opts.lifetime) ? null : durationOption(opts.lifetime, '--lifetime') }),
    ...(opts.encrypt === undefined ? {} : { tokenEncryption: cleared(opts.encrypt) ? null : opts.encrypt }),
    ...(opts.alg === undefined ? {} : { signingAlg: cleared(opts.alg) ? null : opts.alg }),
    ...(opts.publicKey === undefined ? {} : { publicKey: cleared(opts.publicKey) ? null : readKeyFile(opts.publicKey, '--public-key') }),
    ...(opts.allowSecret === undefined ? {} : { allowSecret: booleanOption(opts.allowSecret, '--allow-secret') }),
    ...(opts.requireDpop === undefined ? {} : { requireDPoP: booleanOption(opts.requireDpop, '--require-dpop') }),
    ...limitInput(opts),
  }
  if (Object.keys(input).length === 1) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'nothing to change: give --name, --scopes, --lifetime, --encrypt, --alg, --public-key, --allow-secret, --require-dpop, --rate-limit, --quota or --quota-mode')
  }
  return input
}

/** `client list|show|update|disable|enable|delete`, beside `client create`. */
export function registerClientManagementCommands(client: Command): void {
  withCommonOptions(client.command('list').description("list an account's clients"))
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: CommonOptions & { account: string }) => {
      const clients = await withServices(opts, (s) => listClients(s, { accountId: opts.account }))
      emit(opts, { items: clients.map(presentClient) }, () => clients.length === 0
        ? 'no clients'
        : clients.map((c) => `  ${c.id}  ${c.level.padEnd(12)}  ${JSON.stringify(c.name)}${c.disabled ? '  [disabled]' : ''}`).join('\n'))
    })

  withCommonOptions(client.command('show').description('show one client (keys list shows its key pairs)'))
    .requiredOption(...CLIENT_OPTION)
    .action(async (opts: CommonOptions & { client: string }) => {
      const shown = await withServices(opts, (s) => clientOf(s, opts.client))
      emit(opts, presentClient(shown), () => describeClient(shown))
    })

  withCommonOptions(client.command('update').description("change a client's settings (as PATCH /api/v1/clients/{id})"))
    .requiredOption(...CLIENT_OPTION)
    .option('--name <name>', 'client name')
    .option('--scopes <list>', "comma-separated scopes it may be granted; 'all' for unrestricted, '' for none")
    .option('--lifetime <duration>', "token lifetime, e.g. 30m or 4h; '' for the endpoint's default")
    .option('--encrypt <alg>', "always encrypt its tokens: RSA-OAEP-256, RSA-OAEP-384 or RSA-OAEP-512; '' to stop")
    .option('--alg <alg>', "sign its tokens with RS256, PS256, ES256 or EdDSA; '' for the server's default")
    .option('--public-key <file>', "PEM or JWK file of its public key (private_key_jwt); '' removes the key")
    .option('--allow-secret <bool>', 'true or false: whether its client secret authenticates it')
    .option('--require-dpop <bool>', 'true or false: whether it gets DPoP-bound tokens only (RFC 9449)')
    .option('--rate-limit <limit>', "token requests per second, minute or hour on each instance, e.g. 600/m; 'none' removes it")
    .option('--quota <limit>', "tokens per UTC day or month across instances, e.g. 100000/month; 'none' removes it")
    .option('--quota-mode <mode>', 'enforce (over a limit: 429) or monitor (only counted and audited)')
    .action(async (opts: UpdateOptions) => {
      const input = updateInput(opts)
      const updated = await withServices(opts, async (s) => updateClient(s, { ...input, clientId: (await clientOf(s, opts.client)).id }))
      emit(opts, presentClient(updated), () => `updated ${describeClient(updated)}`)
    })

  withCommonOptions(client.command('disable').description('refuse it tokens; every token it holds stops working for good'))
    .requiredOption(...CLIENT_OPTION)
    .action(async (opts: CommonOptions & { client: string }) => {
      const disabled = await withServices(opts, async (s) => disableClient(s, { clientId: (await clientOf(s, opts.client)).id, actor: CLI_ACTOR }))
      emit(opts, presentClient(disabled), () =>
        `disabled client ${JSON.stringify(disabled.name)} (id ${disabled.id}): it gets no tokens, and those issued before stay refused even once it is enabled again`)
    })

  withCommonOptions(client.command('enable').description('let a disabled client get tokens again (those issued before stay refused)'))
    .requiredOption(...CLIENT_OPTION)
    .action(async (opts: CommonOptions & { client: string }) => {
      const enabled = await withServices(opts, async (s) => enableClient(s, { clientId: (await clientOf(s, opts.client)).id, actor: CLI_ACTOR }))
      emit(opts, presentClient(enabled), () => `enabled client ${JSON.stringify(enabled.name)} (id ${enabled.id})`)
    })

  withCommonOptions(client.command('delete').description('revoke every live key pair of a client, then delete it'))
    .requiredOption(...CLIENT_OPTION)
    .action(async (opts: CommonOptions & { client: string }) => {
      const deleted = await withServices(opts, async (s) => deleteClient(s, { clientId: (await clientOf(s, opts.client)).id, actor: CLI_ACTOR }))
      emit(opts, { id: deleted.clientId, revoked: deleted.revoked, deleted_at: deleted.deletedAt.toISOString() }, () => [
        `deleted client ${deleted.clientId}`,
        ...(deleted.revoked.length === 0 ? ['it had no live key pairs'] : [`revoked ${deleted.revoked.length} key pair(s) first:`, ...deleted.revoked.map((id) => `  ${id}`)]),
      ].join('\n'))
    })
}
