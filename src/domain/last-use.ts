// Where a key pair was last used from (issue 15, item 3): what is kept of a request's address and
// User-Agent. Both come from the caller: they are shown to admins, so they are kept short and
// printable.

export const MAX_USER_AGENT_LENGTH = 200
/** An IPv6 address with a zone is at most 45 + a short zone; nothing longer is an address. */
export const MAX_ADDRESS_LENGTH = 64

// Control characters, and format characters such as bidirectional overrides, which would let a
// caller make the text read differently on screen than it is.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]+/gu

/** Printable text, runs of whitespace folded, at most `max` characters (never half a character). */
function printable(raw: string, max: number): string | null {
  const text = raw.slice(0, max * 4).replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim()
  if (text === '') return null
  const chars = Array.from(text)
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
}

/** The User-Agent as kept: null when absent or nothing printable is left. */
export const keptUserAgent = (raw: string | undefined): string | null => raw === undefined ? null : printable(raw, MAX_USER_AGENT_LENGTH)

/** The address as kept: null when absent. */
export const keptAddress = (raw: string | undefined): string | null => raw === undefined ? null : printable(raw, MAX_ADDRESS_LENGTH)
