import type { Command } from 'commander'
import { getAccount } from '../../domain/accounts.js'
import { InvalidInput } from '../../domain/errors.js'
import type { AccountId } from '../../domain/types.js'
import { requireUuid } from '../../domain/validation.js'
import { presentAuditEvent as present } from '../../contract/dto.js'
import { emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'
import { durationOption } from './client.js'

/** `--since` is a time (ISO 8601) or a duration back from now (`1h`, `7d`). */
function sinceOption(value: string, now: Date): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const at = new Date(value)
    if (Number.isNaN(at.getTime())) throw new InvalidInput('KEYMINT_INVALID_INPUT', `invalid --since time ${JSON.stringify(value.slice(0, 40))}`)
    return at
  }
  return new Date(now.getTime() - durationOption(value, '--since') * 1000)
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('read the audit log')
  withCommonOptions(audit.command('list').description('audit events, newest first'))
    .option('--account <id>', 'only events of this account')
    .option('--since <time>', 'ISO time, or a duration back from now (e.g. 24h)')
    .option('--limit <n>', 'most events to show (1-10000)', '100')
    .action(async (opts: CommonOptions & { account?: string; since?: string; limit: string }) => {
      const limit = Number(opts.limit)
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new InvalidInput('KEYMINT_INVALID_INPUT', '--limit must be between 1 and 10000')
      const accountId = opts.account === undefined ? undefined : requireUuid<AccountId>(opts.account, 'account id')
      const events = await withServices(opts, async (s) => {
        // An unknown account is a mistake to report, not an empty log.
        if (accountId) await getAccount(s.store, accountId)
        return s.store.audit.list({
          limit,
          ...(accountId ? { accountId } : {}),
          ...(opts.since === undefined ? {} : { since: sinceOption(opts.since, s.clock.now()) }),
        })
      })
      const shown = events.map(present)
      emit(opts, { items: shown }, () => shown.length === 0 ? 'no audit events' : shown.map((e) =>
        `${e.time}  ${e.action.padEnd(22)} ${e.actor.padEnd(20)} ${e.target ?? ''}${e.reason ? `  reason=${e.reason}` : ''}${e.count > 1 ? ` ×${e.count}` : ''}`).join('\n'))
    })
}
