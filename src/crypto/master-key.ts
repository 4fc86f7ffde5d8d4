import { hkdfSync, randomBytes } from 'node:crypto'
import { chmodSync, closeSync, openSync, readFileSync, writeSync } from 'node:fs'

/** 256-bit root secret. Every other server secret is derived from it, one purpose each. */
export type MasterKey = Buffer & { readonly __brand: 'MasterKey' }

export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError'
}

export function parseMasterKey(encoded: string, source: string): MasterKey {
  const trimmed = encoded.trim()
  const key = Buffer.from(trimmed, 'base64url')
  if (key.length !== 32 || key.toString('base64url') !== trimmed.replace(/=+$/, '')) {
    throw new MasterKeyError(`${source} must be 32 random bytes, base64url-encoded (43 characters)`)
  }
  return key as MasterKey
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64url')
}

/**
 * Reads the master key file, or creates it with mode 0600 when it does not exist yet.
 * `wx` makes creation atomic: two processes starting together end up with the same key.
 */
export function loadOrCreateMasterKeyFile(path: string): { key: MasterKey; created: boolean } {
  try {
    const fd = openSync(path, 'wx', 0o600)
    try {
      writeSync(fd, `${generateMasterKey()}\n`)
    } finally {
      closeSync(fd)
    }
    chmodSync(path, 0o600)
    return { key: parseMasterKey(readFileSync(path, 'utf8'), path), created: true }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new MasterKeyError(`cannot create master key file ${path}: ${(err as Error).message}`)
    }
  }
  return { key: parseMasterKey(readFileSync(path, 'utf8'), path), created: false }
}

export function readMasterKeyFile(path: string): MasterKey {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new MasterKeyError(`cannot read master key file ${path}: ${(err as Error).message}`)
  }
  return parseMasterKey(text, path)
}

export type KeyPurpose = 'client-secret-hash' | 'private-key-sealing' | 'dpop-nonce'

/** HKDF-SHA256 with the purpose as `info`: one leaked derived key reveals nothing of the others. */
export function deriveKey(master: MasterKey, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `keymint/${purpose}/v1`, 32))
}
