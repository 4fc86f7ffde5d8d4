import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Values that are slow to make and may be shared by every test process of this machine (RSA
 * keys): kept as JSON files in a directory of the system's temp dir, made by whichever process
 * asks first and put in place atomically (a rename), so a reader never sees half a file.
 */
export class MadeOnce {
  readonly #dir: string

  /** `name` names the directory: change it when what is kept there changes. */
  constructor(name: string) {
    this.#dir = join(tmpdir(), name)
  }

  get<T>(name: string, make: () => T): T {
    return this.#read<T>(name) ?? this.#write(name, make())
  }

  async getAsync<T>(name: string, make: () => Promise<T>): Promise<T> {
    return this.#read<T>(name) ?? this.#write(name, await make())
  }

  #read<T>(name: string): T | undefined {
    try {
      return JSON.parse(readFileSync(join(this.#dir, `${name}.json`), 'utf8')) as T
    } catch {
      // Not made yet, or unreadable: made again.
      return undefined
    }
  }

  #write<T>(name: string, value: T): T {
    const file = join(this.#dir, `${name}.json`)
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
    const temp = `${file}.${randomBytes(6).toString('hex')}`
    writeFileSync(temp, JSON.stringify(value), { mode: 0o600 })
    renameSync(temp, file)
    return value
  }
}
