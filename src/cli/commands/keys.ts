import type { Command } from 'commander'
import { getClientByIdOrKeyPair } from '../../domain/clients.js'
import { listKeyPairs, revokeKeyPairs, rotateKeyPair } from '../../domain/key-pairs.js'
import { cancelRotation, finishRotation } from '../../domain/rotation-phases.js'
import type { Services } from '../../services.js'
import { presentIssuedKeyPair, presentKeyPair } from '../../contract/dto.js'
import { CLI_ACTOR, emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'
import { durationOption, issuedPairLines, keyExpiresInOption } from './client.js'
import { CLIENT_OPTION } from './client-manage.js'

/** The client's own id, whichever of its ids the admin gave. */
const clientIdOf = async (s: Services, ref: string): Promise<string> => (await getClientByIdOrKeyPair(s, ref)).id

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description("manage a client's key pairs")

  withCommonOptions(keys.command('rotate').description('issue a new key pair and end the old ones'))
    .requiredOption(...CLIENT_OPTION)
    .option('--grace <duration>', 'keep old pairs working this long, e.g. 10m (default: revoke at once)')
    .option('--key-expires-in <duration>', "the new pair expires after this long, e.g. 90d (default: the account's setting)")
    .action(async (opts: CommonOptions & { client: string; grace?: string; keyExpiresIn?: string }) => {
      const input = {
        actor: CLI_ACTOR,
        ...(opts.grace === undefined ? {} : { graceSeconds: durationOption(opts.grace, '--grace') }),
        ...(opts.keyExpiresIn === undefined ? {} : { keyExpiresIn: keyExpiresInOption(opts.keyExpiresIn, '--key-expires-in') }),
      }
      const rotated = await withServices(opts, async (s) =>
        rotateKeyPair({ store: s.store, clock: s.clock, secrets: s.secrets }, { ...input, clientId: await clientIdOf(s, opts.client) }))
      const pair = presentIssuedKeyPair(rotated.keyPair)
      const ended = rotated.ended.map((e) => ({ client_id: e.id, ends_at: e.endsAt.toISOString() }))
      emit(opts, { client: rotated.clientId, ...pair, ended }, () => [
        `new key pair for client ${rotated.clientId}`,
        ...issuedPairLines(pair),
        ...ended.map((e) => `old pair ${e.client_id} stops working at ${e.ends_at}`),
      ].join('\n'))
    })

  withCommonOptions(keys.command('revoke').description('revoke every live key pair of a client'))
    .requiredOption(...CLIENT_OPTION)
    .action(async (opts: CommonOptions & { client: string }) => {
      const result = await withServices(opts, async (s) =>
        revokeKeyPairs({ store: s.store, clock: s.clock }, { clientId: await clientIdOf(s, opts.client), actor: CLI_ACTOR }))
      emit(opts, { client: result.clientId, revoked: result.revoked }, () =>
        result.revoked.length === 0
          ? `client ${result.clientId} had no live key pairs`
          : `revoked ${result.revoked.length} key pair(s) of client ${result.clientId}:\n${result.revoked.join('\n')}`)
    })

  withCommonOptions(keys.command('finish').description('end the grace of a rotation now: only the newest pair stays'))
    .requiredOption(...CLIENT_OPTION)
    .action(async (opts: CommonOptions & { client: string }) => {
      const result = await withServices(opts, async (s) =>
        finishRotation({ store: s.store, clock: s.clock }, { clientId: await clientIdOf(s, opts.client), actor: CLI_ACTOR }))
      emit(opts, { client: result.clientId, kept: result.kept, revoked: result.revoked }, () => [
        `rotation of client ${result.clientId} finished: only key pair ${result.kept} works`,
        ...result.revoked.map((id) => `revoked ${id}`),
      ].join('\n'))
    })

  withCommonOptions(keys.command('cancel').description('revoke the newest key pair; the one it replaced stays active'))
    .requiredOption(...CLIENT_OPTION)
    .action(async (opts: CommonOptions & { client: string }) => {
      const result = await withServices(opts, async (s) =>
        cancelRotation({ store: s.store, clock: s.clock }, { clientId: await clientIdOf(s, opts.client), actor: CLI_ACTOR }))
      emit(opts, { client: result.clientId, revoked: [result.revoked], restored: result.restored }, () =>
        `rotation of client ${result.clientId} cancelled: revoked ${result.revoked}; ${result.restored} is active again`)
    })

  withCommonOptions(keys.command('list').description("list a client's key pairs (never their secrets)"))
    .requiredOption(...CLIENT_OPTION)
    .action(async (opts: CommonOptions & { client: string }) => {
      const result = await withServices(opts, async (s) => listKeyPairs({ store: s.store, clock: s.clock }, { clientId: await clientIdOf(s, opts.client) }))
      const pairs = result.keyPairs.map(presentKeyPair)
      emit(opts, { items: pairs }, () => [
        `key pairs of client ${result.clientId}:`,
        ...pairs.map((p) => {
          const state = p.state === 'grace' ? `grace until ${p.expires_at}` : p.state === 'revoked' ? `revoked ${p.revoked_at}` : p.state
          const expires = p.state === 'expired' ? `expired ${p.expires_at}` : `expires ${p.expires_at ?? 'never'}`
          const from = p.last_used_address === null ? '' : ` from ${p.last_used_address}`
          const agent = p.last_used_user_agent === null ? '' : ` (${JSON.stringify(p.last_used_user_agent)})`
          return `  ${p.client_id}  ${state.padEnd(36)}  ${expires.padEnd(32)}  created ${p.created_at}  last used ${p.last_used_at ?? 'never'}${from}${agent}`
        }),
      ].join('\n'))
    })
}
