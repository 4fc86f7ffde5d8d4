import type { Command } from 'commander'
import { createApi, listApis } from '../../domain/apis.js'
import { presentApi } from '../../contract/dto.js'
import { CLI_ACTOR, defaultAudiences, emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'
import { readKeyFile } from './client.js'

interface CreateOptions extends CommonOptions {
  account: string
  identifier: string
  name?: string
  encryptionKey?: string
  encryptionAlg?: string
}

export function registerApiCommands(program: Command): void {
  const api = program.command('api').description("manage an account's APIs (token audiences)")
  withCommonOptions(api.command('create').description('register an API; tokens for it are requested with resource=<identifier>'))
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--identifier <uri>', 'absolute URI, e.g. https://api.example.com')
    .option('--name <name>', 'display name (default: the identifier)')
    .option('--encryption-key <file>', "PEM or JWK file of the API's public key: every token for the API is encrypted to it")
    .option('--encryption-alg <alg>', 'RSA-OAEP-256, RSA-OAEP-384, RSA-OAEP-512 or ECDH-ES (default: RSA-OAEP-256 for RSA keys, ECDH-ES for EC and X25519 keys)')
    .action(async (opts: CreateOptions) => {
      const input = {
        accountId: opts.account,
        identifier: opts.identifier,
        ...(opts.name === undefined ? {} : { name: opts.name }),
        ...(opts.encryptionKey === undefined ? {} : { encryptionKey: readKeyFile(opts.encryptionKey, '--encryption-key') }),
        ...(opts.encryptionAlg === undefined ? {} : { encryptionAlg: opts.encryptionAlg }),
        actor: CLI_ACTOR,
      }
      const created = await withServices(opts, (s, config) => createApi({ ...s, defaultAudiences: defaultAudiences(config) }, input))
      emit(opts, presentApi(created), () => [
        `registered API ${created.identifier} (id ${created.id})`,
        ...(created.encryption ? [`tokens for it are encrypted to key ${created.encryption.kid} with ${created.encryption.alg}`] : []),
      ].join('\n'))
    })
  withCommonOptions(api.command('list').description("list an account's APIs"))
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: CommonOptions & { account: string }) => {
      const apis = await withServices(opts, (s) => listApis(s, { accountId: opts.account }))
      emit(opts, { items: apis.map(presentApi) }, () => apis.length === 0
        ? 'no APIs registered'
        : apis.map((a) => `  ${a.identifier}  ${a.name}  (id ${a.id})${a.encryption ? `  encrypted to ${a.encryption.kid} (${a.encryption.alg})` : ''}`).join('\n'))
    })
}
