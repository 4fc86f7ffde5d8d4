import type { Command } from 'commander'
import { presentFederationPolicy } from '../../contract/dto.js'
import { InvalidInput } from '../../domain/errors.js'
import { createFederationPolicy, deleteFederationPolicy, listFederationPolicies, MAX_JWKS_TEXT_LENGTH } from '../../domain/federation-policies.js'
import type { FederationPolicy } from '../../domain/types.js'
import { CLI_ACTOR, emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'
import { durationOption, readKeyFile } from './client.js'

interface CreateOptions extends CommonOptions {
  account: string
  client: string
  issuer: string
  audience: string
  subject: string
  claim: string[]
  jwks?: string
  maxAge?: string
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

/** `--claim name=value`, repeated: one name once, split at the first `=`. */
export function parseClaims(pairs: readonly string[]): Record<string, string> {
  const claims: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0 || at === pair.length - 1) throw new InvalidInput('KEYMINT_INVALID_INPUT', `--claim must be name=value, not ${JSON.stringify(pair.slice(0, 60))}`)
    const name = pair.slice(0, at)
    if (Object.hasOwn(claims, name)) throw new InvalidInput('KEYMINT_INVALID_INPUT', `--claim ${name} is given twice; a claim has one required value`)
    claims[name] = pair.slice(at + 1)
  }
  return claims
}

function describe(p: FederationPolicy): string {
  const claims = Object.entries(p.claims).map(([name, value]) => `${name}=${value}`)
  return [
    `  ${p.id}  client ${p.clientId}`,
    `    issuer ${p.issuer}  audience ${p.audience}  subject ${p.subject}`,
    ...(claims.length === 0 ? [] : [`    claims ${claims.join(', ')}`]),
    `    keys ${p.jwks === null ? 'from discovery' : `given (${p.jwks.keys.length})`}${p.maxAgeSeconds === null ? '' : `  max age ${p.maxAgeSeconds}s`}`,
  ].join('\n')
}

export function registerFederationCommands(program: Command): void {
  const federation = program.command('federation').description('trust policies: platform tokens (GitHub Actions, Kubernetes, any OIDC issuer) in place of key pairs')
  withCommonOptions(federation.command('create').description("trust an issuer's tokens for a client"))
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--client <id>', "the client (its own id) whose tokens the workload gets")
    .requiredOption('--issuer <url>', 'the issuer, exactly as tokens carry it in iss (https)')
    .requiredOption('--audience <aud>', 'a value the tokens\' aud must hold')
    .requiredOption('--subject <exact-or-glob>', 'the sub tokens must carry; * matches any run of characters')
    .option('--claim <name=value>', 'a claim the tokens must carry with exactly this value (repeatable)', collect, [])
    .option('--jwks <file>', "JWKS file of the issuer's public keys, for issuers keymint cannot reach")
    .option('--max-age <duration>', 'refuse tokens issued longer ago than this, e.g. 10m')
    .action(async (opts: CreateOptions) => {
      // Every flag is read and checked before the database is opened: a bad one writes nothing.
      const jwks = opts.jwks === undefined ? undefined : readKeyFile(opts.jwks, '--jwks')
      if (jwks !== undefined && jwks.length > MAX_JWKS_TEXT_LENGTH) throw new InvalidInput('KEYMINT_INVALID_INPUT', `--jwks file is larger than ${MAX_JWKS_TEXT_LENGTH} characters`)
      const input = {
        accountId: opts.account, clientId: opts.client, issuer: opts.issuer, audience: opts.audience, subject: opts.subject,
        claims: parseClaims(opts.claim), actor: CLI_ACTOR,
        ...(jwks === undefined ? {} : { jwks }),
        ...(opts.maxAge === undefined ? {} : { maxAgeSeconds: durationOption(opts.maxAge, '--max-age') }),
      }
      const policy = await withServices(opts, (s, config) => createFederationPolicy({ ...s, federation: config.federation }, input))
      emit(opts, presentFederationPolicy(policy), () => [
        `created trust policy ${policy.id}`,
        describe(policy),
        `Tokens issued through it carry client_id ${policy.id}.`,
      ].join('\n'))
    })
  withCommonOptions(federation.command('list').description("list an account's trust policies"))
    .requiredOption('--account <id>', 'account id')
    .option('--client <id>', "only this client's")
    .action(async (opts: CommonOptions & { account: string; client?: string }) => {
      const all = await withServices(opts, (s) => listFederationPolicies(s, { accountId: opts.account }))
      const policies = all.filter((p) => opts.client === undefined || p.clientId === opts.client)
      emit(opts, { items: policies.map(presentFederationPolicy) }, () => (policies.length === 0 ? 'no trust policies' : policies.map(describe).join('\n')))
    })
  withCommonOptions(federation.command('delete').description('delete a trust policy; the tokens it led to are refused from then on'))
    .requiredOption('--account <id>', 'account id')
    .requiredOption('--policy <id>', "the policy's id")
    .action(async (opts: CommonOptions & { account: string; policy: string }) => {
      const policy = await withServices(opts, (s) => deleteFederationPolicy(s, { accountId: opts.account, id: opts.policy, actor: CLI_ACTOR }))
      emit(opts, { ...presentFederationPolicy(policy), deleted_at: policy.deletedAt?.toISOString() ?? null }, () => `deleted trust policy ${policy.id}`)
    })
}
