import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '))
  if (line === undefined) throw new Error('/proc/stat has no cpu line')
  // user nice system idle iowait irq softirq steal ...
  const fields = line.trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return { busy: total - idle, total }
}

/** Share of all CPUs busy over `ms`, 0..1: what else is running on this machine. */
export async function cpuBusy(ms: number): Promise<number> {
  const before = cpuTimes()
  await sleep(ms)
  const after = cpuTimes()
  const total = after.total - before.total
  return total > 0 ? (after.busy - before.busy) / total : 0
}
