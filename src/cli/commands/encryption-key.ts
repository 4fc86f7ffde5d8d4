import type { Command } from 'commander'
import { exportEncryptionKey } from '../../domain/encryption-key-export.js'
import { InvalidInput } from '../../domain/errors.js'
import { CLI_ACTOR, emit, withCommonOptions, withServices, type CommonOptions } from '../context.js'

const FORMATS = ['pem', 'jwk'] as const

const WARNING = 'keymint: warning: this is the private key of keymint\'s encryption key; whoever holds it can read every token encrypted to it '
  + '(encrypted=…, clients set to encrypt) by any account. Give it only to APIs that must read such tokens, and keep it as secret as the master key.\n'

export function registerEncryptionKeyCommands(program: Command): void {
  const key = program.command('encryption-key').description("keymint's own encryption key (tokens for the default audience)")
  withCommonOptions(key.command('export').description('print the private encryption key, for APIs that read encrypted tokens of the default audience'))
    .option('--format <format>', 'pem (PKCS#8) or jwk', 'pem')
    .action(async (opts: CommonOptions & { format: string }) => {
      if (!(FORMATS as readonly string[]).includes(opts.format)) throw new InvalidInput('KEYMINT_INVALID_INPUT', `--format must be one of: ${FORMATS.join(', ')}`)
      const { kid, privateKey } = await withServices(opts, (s) => exportEncryptionKey(s, { actor: CLI_ACTOR }))
      const exported = opts.format === 'jwk'
        ? { ...(privateKey.export({ format: 'jwk' }) as Record<string, string>), kid, use: 'enc' }
        : String(privateKey.export({ format: 'pem', type: 'pkcs8' }))
      process.stderr.write(WARNING)
      emit(opts, { kid, format: opts.format, key: exported }, () => (typeof exported === 'string' ? exported.trimEnd() : JSON.stringify(exported)))
    })
}
