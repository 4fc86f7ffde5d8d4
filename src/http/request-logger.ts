import type { FastifyBaseLogger } from 'fastify'

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
type Bindings = Parameters<FastifyBaseLogger['child']>[0]
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1]

/**
 * A request's logger that becomes a real child logger (with the request id bound) only when
 * something is logged at an enabled level. Fastify makes one per request; on the token path,
 * which logs nothing when it succeeds, making pino children (and redacting their bindings)
 * for every token was a measurable share of the work.
 */
class LazyChildLogger {
  #child: FastifyBaseLogger | undefined

  constructor(
    private readonly parent: FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean },
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  get #logger(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options)
    return this.#child
  }

  get level(): string {
    return this.#child?.level ?? this.options?.level ?? this.parent.level
  }

  set level(level: string) {
    this.#logger.level = level
  }

  #log(level: Level, args: unknown[]): void {
    if (this.#child === undefined && this.parent.isLevelEnabled?.(level) === false && this.options?.level === undefined) return
    ;(this.#logger[level] as (...a: unknown[]) => void)(...args)
  }

  fatal(...args: unknown[]): void { this.#log('fatal', args) }
  error(...args: unknown[]): void { this.#log('error', args) }
  warn(...args: unknown[]): void { this.#log('warn', args) }
  info(...args: unknown[]): void { this.#log('info', args) }
  debug(...args: unknown[]): void { this.#log('debug', args) }
  trace(...args: unknown[]): void { this.#log('trace', args) }
  silent(...args: unknown[]): void { (this.#logger.silent as (...a: unknown[]) => void)(...args) }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#logger.child(bindings, options)
  }
}

/** Fastify's `childLoggerFactory`: a lazy child per request. */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger
}
