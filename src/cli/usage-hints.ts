// Key ids are base64url and may begin with '-': Commander reads such an argument as an option.
const DASHED_ARGUMENT_HINT = "; an argument that begins with '-' goes after '--' (keymint signing-keys retire -- <kid>)"

/** An unknown "option" that does not look like one (`-pm_Oj…`, not `--jsno`): a value that begins with '-'. */
const VALUE_NOT_OPTION = /unknown option '(?!--[a-z][a-z-]*'|-[a-zA-Z]')/

/** Commander's one-line usage error, with what to do about a value Commander took for an option. */
export const usageMessage = (message: string): string =>
  VALUE_NOT_OPTION.test(message) ? message + DASHED_ARGUMENT_HINT : message
