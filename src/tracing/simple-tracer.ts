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
    this.logger.info(`[${short}] Starting ${name}`, { traceId, span: name, ...attributes });
    try {
      const result = await runWithTraceId(traceId, () => fn(traceId));
      const seconds = (performance.now() - start) / 1000;
      this.logger.info(`[${short}] Completed ${name} in ${seconds.toFixed(3)}s`, { traceId, span: name, durationSeconds: seconds });
      return result;
    } catch (error) {
      const seconds = (performance.now() - start) / 1000;
      this.logger.error(`[${short}] FAILED ${name} after ${seconds.toFixed(3)}s: ${messageOf(error)}`, { traceId, span: name, error });
      throw error;
    }
  }

  logMetric(traceId: string, name: string, value: unknown): void {
    this.logger.debug(`[${traceId.slice(0, 8)}] Metric ${name}=${String(value)}`, { traceId, metricName: name, metricValue: value });
  }

  logError(traceId: string, error: unknown, context?: Record<string, unknown>): void {
    this.logger.error(`[${traceId.slice(0, 8)}] Error: ${messageOf(error)}`, { traceId, error, ...context });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
