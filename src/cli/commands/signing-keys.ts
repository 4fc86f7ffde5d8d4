import type { Command } from 'commander'
import { SIGNING_ALGS, type SigningAlg } from '../../crypto/jws.js'
import { InvalidInput } from '../../domain/errors.js'
import { retireServerKey, rotateSigningKey, serverKeyStates } from '../../domain/server-keys.js'
import { presentServerKey as present } from '../../contract/dto.js'
import { CLI_ACTOR, emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'
import { durationOption } from './client.js'

const line = (k: ReturnType<typeof present>) =>
  `  ${k.kid}  ${k.use} ${k.alg.padEnd(12)} ${k.state.padEnd(11)} activates ${k.activates_at}${k.retired_at ? `  retired ${k.retired_at}` : ''}`

function requireAlg(value: string): SigningAlg {
  if (!(SIGNING_ALGS as readonly string[]).includes(value)) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `--alg must be one of: ${SIGNING_ALGS.join(', ')}`)
  }
  return value as SigningAlg
}

export function registerSigningKeyCommands(program: Command): void {
  const keys = program.command('signing-keys').description("manage the server's signing keys")

  withCommonOptions(keys.command('list').description('list server keys and their states'))
    .action(async (opts: CommonOptions) => {
      const listed = await withServices(opts, async (s) => {
        const all = await s.store.serverKeys.listAll()
        const states = serverKeyStates(all, s.clock.now())
        return all.map((k) => present(k, states.get(k.kid)))
      })
      emit(opts, { items: listed }, () => ['server keys:', ...listed.map(line)].join('\n'))
    })

  withCommonOptions(keys.command('rotate').description('add a signing key: published now, signing after --publish-ahead'))
    .option('--alg <alg>', `one of ${SIGNING_ALGS.join(', ')} (default: KEYMINT_SIGNING_ALG)`)
    .option('--publish-ahead <duration>', 'how long it is published before it signs (default: KEYMINT_KEY_PUBLISH_AHEAD)')
    .action(async (opts: CommonOptions & { alg?: string; publishAhead?: string }) => {
      const alg = opts.alg === undefined ? undefined : requireAlg(opts.alg)
      const ahead = opts.publishAhead === undefined ? undefined : durationOption(opts.publishAhead, '--publish-ahead')
      const key = await withServices(opts, (s, config) => rotateSigningKey(s, {
        alg: alg ?? config.tokens.signingAlg,
        publishAheadSeconds: ahead ?? config.tokens.keyPublishAheadSeconds,
        actor: CLI_ACTOR,
      }))
      const shown = present(key, key.activatesAt > key.createdAt ? 'next' : 'active')
      emit(opts, shown, () => `new ${key.alg} signing key ${key.kid}: published now, signs ${shown.state === 'active' ? 'now' : `from ${shown.activates_at}`}`)
    })

  withCommonOptions(keys.command('retire').description('stop using a key; it stays published until its tokens have expired'))
    .argument('<kid>', 'key id')
    .action(async (kid: string, opts: CommonOptions) => {
      const key = await withServices(opts, (s) => retireServerKey(s, { kid, actor: CLI_ACTOR }))
      const shown = present(key, 'retired')
      emit(opts, shown, () => `retired ${key.use} key ${key.kid} at ${shown.retired_at}; it stays in the JWKS while tokens it signed may be alive`)
    })
}
