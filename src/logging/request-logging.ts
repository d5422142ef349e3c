import type { IncomingMessage, ServerResponse } from 'node:http';
// nestjs-pino's request context, which its PinoLogger reads; its own middleware is not mounted (logging.module.ts)
import { Store, storage } from 'nestjs-pino/storage';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';
import type { HttpLogger } from 'pino-http';

/** The pino-http instance of the app: its options, and the root logger every line goes through. */
export const HTTP_LOGGER = Symbol('HTTP_LOGGER');

type Next = (error?: unknown) => void;
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

let lastId = 0;

/**
 * The logger of one request while the request lines are off: the child that
 * pino-http would bind to it (`logger.child({ req })`, with the same serializers
 * and redaction), made only when a line at an enabled level is written in the
 * request. pino serializes a child's bindings when the child is made, so pino-http
 * pays for the request's serialized headers on every request, also at a level
 * that writes nothing.
 */
class LazyRequestLogger {
  private bound?: Logger;

  constructor(
    private readonly root: Logger,
    private readonly request: IncomingMessage,
  ) {}

  private get logger(): Logger {
    if (!this.bound) {
      // numbered as pino-http numbers requests, once the number is written
      this.request.id ||= lastId = (lastId + 1) & 0x7fffffff;
      this.bound = this.root.child({ req: this.request });
    }
    return this.bound;
  }

  private write(level: Level, args: unknown[]): void {
    if (this.root.isLevelEnabled(level)) (this.logger[level] as (...line: unknown[]) => void)(...args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  isLevelEnabled(level: string): boolean {
    return this.root.isLevelEnabled(level);
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.logger.child(bindings, options);
  }
}

/**
 * What nestjs-pino's middleware does, in one Express middleware: gives the
 * request its logger (`req.log`) and runs the rest of the request in the async
 * context where nestjs-pino's Logger finds it, so that the app's lines written
 * during a request carry the request. When the level writes the line per request
 * (info and below), the logger is pino-http's, as before. Otherwise that line can
 * never be written, and the request gets a logger that costs nothing until a line
 * is written.
 *
 * One middleware rather than nestjs-pino's two, which Nest mounts as a route on
 * every path: that route, its proxy and pino-http's serializing took a fifth of
 * the time of a GET /health/live.
 */
export function requestLogging(
  http: HttpLogger,
): (request: IncomingMessage, response: ServerResponse, next: Next) => void {
  const root = http.logger;
  if (root.isLevelEnabled('info')) {
    return (request, response, next) => {
      http(request, response);
      storage.run(new Store(request.log), next);
    };
  }
  return (request, _response, next) => {
    request.log = new LazyRequestLogger(root, request) as unknown as Logger;
    storage.run(new Store(request.log), next);
  };
}
