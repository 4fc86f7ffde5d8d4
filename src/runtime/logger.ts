import { writeSync } from 'node:fs'
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
  /** Writes out what is buffered and stops the periodic flush: the last thing a closing server does. */
  end(): void
}

type SonicBoom = ReturnType<typeof pino.destination>

/**
 * Standard output, written a few lines at a time: a write per line cost more than the rest of a
 * token (a system call each, ~20–40 µs on a busy VM). Lines gather to 2 KiB and go out at the
 * latest 250 ms later (and at exit); each write holds whole lines and at most 4096 bytes, which
 * a pipe takes in one piece, so the lines of `--workers` processes sharing one never interleave.
 * The buffer and its flush timer are made at the first line (a silent server has neither) and
 * ended with the server, so a process that starts and stops servers keeps no timer of a closed
 * one (each wrote to stdout four times a second); a line after that is written at once.
 */
export class BufferedStdout implements DestinationStream {
  #stream: SonicBoom | undefined
  #ended = false

  write(line: string): void {
    if (this.#ended) {
      writeSync(1, line)
      return
    }
    this.#stream ??= pino.destination({ dest: 1, sync: false, minLength: 2048, maxWrite: 4096, periodicFlush: 250 })
    this.#stream.write(line)
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    const stream = this.#stream
    if (!stream) return
    // What is buffered goes out now and in order, as pino does at exit; then the timer stops.
    try {
      stream.flushSync()
    } catch {
      // A closed or broken stdout: nothing more can be written to it.
    }
    stream.destroy()
  }
}

/** The process's loggers, made first so everything built after them can report failures. */
export function createLoggers(level: string, destination: DestinationStream & { end?: () => void } = new BufferedStdout()): Loggers {
  return {
    log: pino({ level, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } }, destination),
    requests: pino({ level }, destination),
    end: () => destination.end?.(),
  }
}
