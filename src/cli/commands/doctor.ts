import type { Command } from 'commander'
import { ConfigError } from '../../config.js'
import { examine, type Finding } from '../doctor-checks.js'
import { configFrom, withCommonOptions, type CommonOptions } from '../context.js'

export function registerDoctorCommand(program: Command): void {
  withCommonOptions(program.command('doctor').description('check the configuration, database, master key, files and clock; exit 1 on a problem'))
    .action(async (opts: CommonOptions) => {
      let findings: Finding[]
      try {
        findings = await examine(configFrom(opts))
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
        findings = err.problems.map((message) => ({ level: 'problem', check: 'configuration', message }))
      }
      const problems = findings.filter((f) => f.level === 'problem').length
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ findings, problems, warnings: findings.filter((f) => f.level === 'warn').length })}\n`)
      } else {
        process.stdout.write(findings.map((f) => `${f.level.padEnd(8)}${f.check}: ${f.message}`).join('\n') + '\n')
      }
      if (problems > 0) process.exitCode = 1
    })
}
