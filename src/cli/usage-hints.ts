// Key ids are base64url and may begin with '-': Commander reads such an argument as an option.
const DASHED_ARGUMENT_HINT = "; an argument that begins with '-' goes after '--' (keymint signing-keys retire -- <kid>)"

/** Commander's one-line usage error, with what to do about an unknown option. */
export const usageMessage = (message: string): string =>
  /^(error: )?unknown option/.test(message) ? message + DASHED_ARGUMENT_HINT : message
