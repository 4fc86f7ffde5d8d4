import { pino, type Logger } from 'pino'

export type { Logger }

// Secrets never reach a log line, whatever logs them (STYLE §8).
export const LOG_REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.clientsecret', 'req.headers.cookie',
  '*.client_secret', '*.clientSecret', '*.client_assertion', '*.subject_token', '*.actor_token', '*.access_token', '*.password', '*.privateJwk',
]

/** The process's one logger, made first so everything built after it can report failures. */
export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' } })
}
