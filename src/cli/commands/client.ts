import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { describeQuota, describeRateLimit, parseQuota, parseRateLimit } from '../../domain/client-limits.js'
import { createClient } from '../../domain/clients.js'
import { InvalidInput } from '../../domain/errors.js'
import type { Client, Quota, RateLimit } from '../../domain/types.js'
import { requireKeyExpiresIn } from '../../domain/key-expiry.js'
import { DurationError, parseDuration } from '../../duration.js'
import { presentClient, presentIssuedKeyPair } from '../../contract/dto.js'
import { CLI_ACTOR, emit, splitList, withCommonOptions, withServices, type CommonOptions } from '../context.js'

/** A CLI duration as domain input; a bad one is the same invalid-input error as any other. */
export function durationOption(value: string, flag: string): number {
  try {
    return parseDuration(value, flag)
  } catch (err) {
    if (err instanceof DurationError) throw new InvalidInput('KEYMINT_INVALID_INPUT', err.message)
    throw err
  }
}

/** A key file named by `flag`; an unreadable one is invalid input naming the flag. */
export function readKeyFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', `cannot read ${flag} file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`)
  }
}

/** `--key-expires-in`: a duration within the bounds of a key pair's lifetime. */
export function keyExpiresInOption(value: string, flag: string): number {
  return requireKeyExpiresIn(durationOption(value, flag), flag)
}

/** The lines that show a new pair once: its secret, or why there is none. */
export function issuedPairLines(pair: { client_id: string; client_secret?: string; expires_at: string | null }): string[] {
  return [
    `client_id:     ${pair.client_id}`,
    `expires:       ${pair.expires_at ?? 'never'}`,
    ...(pair.client_secret === undefined
      ? ['client_secret: none: this client authenticates with its private key (private_key_jwt)']
      : [`client_secret: ${pair.client_secret}`, 'The secret is shown only now; store it safely.']),
  ]
}

export interface LimitOptions {
  rateLimit?: string
  quota?: string
  quotaMode?: string
}

/** `--rate-limit`, `--quota` and `--quota-mode` as domain input; `none` (or '') clears a limit. */
export function limitInput(opts: LimitOptions): { rateLimit?: RateLimit | null; quota?: Quota | null; quotaMode?: string } {
  const cleared = (value: string) => value.trim() === ''
  return {
    ...(opts.rateLimit === undefined ? {} : { rateLimit: cleared(opts.rateLimit) ? null : parseRateLimit(opts.rateLimit) }),
    ...(opts.quota === undefined ? {} : { quota: cleared(opts.quota) ? null : parseQuota(opts.quota) }),
    ...(opts.quotaMode === undefined ? {} : { quotaMode: opts.quotaMode.trim() }),
  }
}

/** How a client's limits read in human output. */
export function limitLines(c: Client): string[] {
  const mode = c.quotaMode === 'enforce' ? 'enforced: over it, 429' : 'monitored only: over it, counted and audited'
  return [
    `rate limit: ${c.rateLimit === null ? 'none' : `${describeRateLimit(c.rateLimit)} per instance`}`,
    `quota: ${c.quota === null ? 'none' : `${describeQuota(c.quota)} (UTC)`}`,
    ...(c.rateLimit === null && c.quota === null ? [] : [`limits: ${mode}`]),
  ]
}

/** Registers `client create` and returns the `client` group, for the commands beside it. */
export function registerClientCommands(program: Command): Command {
  const client = program.command('client').description('manage API clients')
  withCommonOptions(client.command('create').description('create a client and its first key pair'))
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--name <name>', 'client name')
    .requiredOption('--level <level>', 'user or subscription')
    .option('--user <user-id>', 'the user a user-level client acts as')
    .option('--scopes <list>', 'comma-separated scopes it may be granted (default: unrestricted)')
    .option('--lifetime <duration>', 'token lifetime, e.g. 30m or 4h (default: per endpoint)')
    .option('--public-key <file>', 'PEM or JWK file of a public key: the client authenticates with private_key_jwt only')
    .option('--allow-secret', 'with --public-key: accept its client secret as well')
    .option('--alg <alg>', "sign its tokens with RS256, PS256, ES256 or EdDSA (default: the server's)")
    .option('--encrypt <alg>', 'always encrypt its tokens: RSA-OAEP-256, RSA-OAEP-384 or RSA-OAEP-512')
    .option('--require-dpop', 'issue it DPoP-bound tokens only (RFC 9449): token requests without a DPoP proof are refused')
    .option('--rate-limit <limit>', 'token requests per second, minute or hour on each instance, e.g. 600/m (default: none)')
    .option('--quota <limit>', 'tokens per UTC day or month across instances, e.g. 100000/month (default: none)')
    .option('--quota-mode <mode>', 'enforce (over a limit: 429) or monitor (only counted and audited); default: enforce')
    .option('--key-expires-in <duration>', "its first key pair expires after this long, e.g. 90d (default: the account's setting)")
    .action(async (opts: CommonOptions & LimitOptions & { account: string; name: string; level: string; user?: string; scopes?: string; lifetime?: string; encrypt?: string; publicKey?: string; alg?: string; allowSecret?: boolean; requireDpop?: boolean; keyExpiresIn?: string }) => {
      const input = {
        accountId: opts.account,
        name: opts.name,
        level: opts.level,
        ...(opts.user === undefined ? {} : { userId: opts.user }),
        ...(opts.scopes === undefined ? {} : { scopes: splitList(opts.scopes) }),
        ...(opts.lifetime === undefined ? {} : { lifetimeSeconds: durationOption(opts.lifetime, '--lifetime') }),
        ...(opts.encrypt === undefined ? {} : { tokenEncryption: opts.encrypt }),
        ...(opts.alg === undefined ? {} : { signingAlg: opts.alg }),
        ...(opts.publicKey === undefined ? {} : { publicKey: readKeyFile(opts.publicKey, '--public-key') }),
        ...(opts.allowSecret === undefined ? {} : { allowSecret: opts.allowSecret }),
        ...(opts.requireDpop === undefined ? {} : { requireDPoP: opts.requireDpop }),
        ...limitInput(opts),
        ...(opts.keyExpiresIn === undefined ? {} : { keyExpiresIn: keyExpiresInOption(opts.keyExpiresIn, '--key-expires-in') }),
        actor: CLI_ACTOR,
      }
      const created = await withServices(opts, (s) => createClient({ store: s.store, clock: s.clock, secrets: s.secrets }, input))
      const pair = presentIssuedKeyPair(created.keyPair)
      emit(opts, { ...presentClient(created.client), ...pair }, () => [
        `created ${created.client.level}-level client ${JSON.stringify(created.client.name)} (id ${created.client.id})`,
        ...(created.client.rateLimit === null && created.client.quota === null ? [] : limitLines(created.client)),
        ...issuedPairLines(pair),
      ].join('\n'))
    })
  return client
}
