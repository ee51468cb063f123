import { callSafely } from './call-safely';
import type { Tracer } from './tracer';
import { runWithTraceId, traceIdForSpan } from './trace-id-scope';

/** Where a {@link SimpleTracer} writes: `console` fits, and so do pino and winston loggers. */
export interface TracerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

/**
 * A tracer that logs span starts, ends (with duration) and failures, metrics and errors,
 * each line prefixed with the first 8 characters of the span's trace id. A span opened inside
 * another (a step inside its run) shares its trace id, so a run's lines can be grepped together.
 *
 * A logger that throws never changes the outcome: `span` still runs its function exactly once
 * and returns its result; the failure is reported once with `console.warn` and ignored.
 *
 * @example
 * await pipeline.execute(input, deps, new SimpleTracer());
 */
export class SimpleTracer implements Tracer {
  private readonly logger: TracerLogger;

  /** @param logger where lines go. @default console */
  constructor(logger: TracerLogger = console) {
    this.logger = logger;
  }

  async span<T>(name: string, fn: (traceId: string) => Promise<T>, attributes?: Record<string, unknown>): Promise<T> {
    const traceId = traceIdForSpan();
    const short = traceId.slice(0, 8);
    const start = performance.now();
    this.log('info', () => [`[${short}] Starting ${name}`, { traceId, span: name, ...attributes }]);
    let result: T;
    try {
      result = await runWithTraceId(traceId, () => fn(traceId));
    } catch (error) {
      const seconds = (performance.now() - start) / 1000;
      this.log('error', () => [`[${short}] FAILED ${name} after ${seconds.toFixed(3)}s: ${messageOf(error)}`, { traceId, span: name, error }]);
      throw error;
    }
    const seconds = (performance.now() - start) / 1000;
    this.log('info', () => [`[${short}] Completed ${name} in ${seconds.toFixed(3)}s`, { traceId, span: name, durationSeconds: seconds }]);
    return result;
  }

  logMetric(traceId: string, name: string, value: unknown): void {
    this.log('debug', () => [`[${String(traceId).slice(0, 8)}] Metric ${name}=${String(value)}`, { traceId, metricName: name, metricValue: value }]);
  }

  logError(traceId: string, error: unknown, context?: Record<string, unknown>): void {
    this.log('error', () => [`[${String(traceId).slice(0, 8)}] Error: ${messageOf(error)}`, { traceId, error, ...context }]);
  }

  /** Writes one line; building it or writing it may throw (a hostile value, a broken logger): reported once, ignored. */
  private log(level: keyof TracerLogger, line: () => [string, Record<string, unknown>]): void {
    callSafely(this, `SimpleTracer logger.${level}`, () => {
      const [message, fields] = line();
      return this.logger[level](message, fields);
    });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
