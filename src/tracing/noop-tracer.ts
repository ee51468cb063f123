import type { Tracer } from './tracer';
import { runWithTraceId, traceIdForSpan } from './trace-id-scope';

/**
 * A tracer that records nothing (API.md §10). `span` still hands `fn` a UUID trace id: the
 * enclosing fastroai span's, or a new one, and spans opened inside take the same id.
 */
export class NoOpTracer implements Tracer {
  span<T>(_name: string, fn: (traceId: string) => Promise<T>, _attributes?: Record<string, unknown>): Promise<T> {
    const traceId = traceIdForSpan();
    return runWithTraceId(traceId, () => fn(traceId));
  }
  logMetric(_traceId: string, _name: string, _value: unknown): void {}
  logError(_traceId: string, _error: unknown, _context?: Record<string, unknown>): void {}
}

/**
 * The engine's own NoOpTracer, used when no tracer is given and when `PipelineConfig.trace` is
 * false: the engine opens no span through it at all, and an agent call's span through it does
 * not make itself enclosing. That would enter the AsyncLocalStorage of trace ids, and a process
 * that enters it once pays for it on every promise it makes after (Node 20 propagates every
 * enabled storage), for ids nothing records. A NoOpTracer you make yourself nests its ids.
 */
class DefaultNoOpTracer extends NoOpTracer {
  override span<T>(_name: string, fn: (traceId: string) => Promise<T>): Promise<T> {
    return fn(traceIdForSpan());
  }
}

/** One shared instance: the tracer keeps no state. */
export const NOOP_TRACER: Tracer = new DefaultNoOpTracer();
