import { pino, type DestinationStream, type Logger } from 'pino'

export type { Logger }

// Secrets never reach a log line, whatever logs them (STYLE §8): every header and field name
// that carries one in keymint's API, should a request's headers or body ever be logged.
export const LOG_REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.clientsecret', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'req.headers["proxy-authorization"]',
  '*.client_secret', '*.clientSecret', '*.client_assertion', '*.subject_token', '*.actor_token', '*.access_token', '*.token', '*.password', '*.current_password', '*.new_password',
  '*.otp', '*.secret', '*.csrf_token', '*.recovery_codes', '*.privateJwk',
]

export interface Loggers {
  /** The process's logger, redacting by path whatever is logged with it. */
  readonly log: Logger
  /**
   * For the line per completed request only, into the same stream: that line is built from what
   * the server found (ids, numbers, a route pattern), never from input, so it has nothing to redact,
   * and redacting cost four times the rest of writing it on the token path.
   */
  readonly requests: Logger
}

/**
 * Standard output, written a few lines at a time: a write per line cost more than the rest of a
 * token (a system call each, ~20–40 µs on a busy VM). Lines gather to 2 KiB and go out at the
 * latest 250 ms later (and at exit); each write holds whole lines and at most 4096 bytes, which
 * a pipe takes in one piece, so the lines of `--workers` processes sharing one never interleave.
 */
export function bufferedStdout(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 2048, maxWrite: 4096, periodicFlush: 250 })
}

/** The process's loggers, made first so everything built after them can report failures. */
export function createLoggers(level: string, destination: DestinationStream = bufferedStdout()): Loggers {
  return {
    log: pino({ level, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, destination),
    requests: pino({ level }, destination),
  }
}
