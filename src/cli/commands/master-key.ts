import type { Command } from 'commander'
import { generateMasterKey } from '../../crypto/master-key.js'
import { masterKeyStatus, resealSecondFactorSecrets, resealServerKeys, resealWebhookSecrets } from '../../domain/master-key-rotation.js'
import { emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'

export function registerMasterKeyCommands(program: Command): void {
  const master = program.command('master-key').description('rotate the master key that protects keys at rest')
  master.command('generate').description('print a new random master key (32 bytes, base64url)')
    .option('--json', 'print exactly one JSON object on stdout')
    .action((opts: { json?: boolean }) => {
      const key = generateMasterKey()
      emit(opts, { master_key: key }, () => key)
    })

  withCommonOptions(master.command('status').description('what still depends on previous master keys'))
    .action(async (opts: CommonOptions) => {
      const status = await withServices(opts, (s) => masterKeyStatus({ ...s, currentOnly: s.currentOnlySealer }))
      emit(opts, {
        server_keys_to_reseal: status.serverKeysToReseal, key_pairs_to_rehash: status.keyPairsToRehash,
        second_factor_secrets_to_reseal: status.secondFactorSecretsToReseal, webhook_secrets_to_reseal: status.webhookSecretsToReseal,
      }, () => [
        `server keys sealed under a previous master key: ${status.serverKeysToReseal}${status.serverKeysToReseal ? ' (run keymint master-key rotate)' : ''}`,
        `live key pairs hashed under a previous master key: ${status.keyPairsToRehash}${status.keyPairsToRehash ? ' (each re-hashes at its next use)' : ''}`,
        `second-factor secrets sealed under a previous master key: ${status.secondFactorSecretsToReseal}${status.secondFactorSecretsToReseal ? ' (run keymint master-key rotate)' : ''}`,
        `webhook secrets sealed under a previous master key: ${status.webhookSecretsToReseal}${status.webhookSecretsToReseal ? ' (run keymint master-key rotate)' : ''}`,
      ].join('\n'))
    })

  withCommonOptions(master.command('rotate').description('re-seal every server key, second-factor secret and webhook secret under KEYMINT_MASTER_KEY (previous keys in KEYMINT_PREVIOUS_MASTER_KEYS)'))
    .action(async (opts: CommonOptions) => {
      const { resealed, secondFactorSecrets, webhookSecrets } = await withServices(opts, async (s) => ({
        resealed: await resealServerKeys(s), secondFactorSecrets: await resealSecondFactorSecrets(s), webhookSecrets: await resealWebhookSecrets(s),
      }))
      emit(opts, { resealed, second_factor_secrets_resealed: secondFactorSecrets, webhook_secrets_resealed: webhookSecrets }, () =>
        `re-sealed ${resealed} server key(s), ${secondFactorSecrets} second-factor secret(s) and ${webhookSecrets} webhook secret(s) under the current master key`)
    })
}
