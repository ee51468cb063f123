import type { Tracer } from './tracer';
import { traceIdForSpan } from './trace-id-scope';

/**
 * A tracer that records nothing: used when none is given and when `PipelineConfig.trace` is
 * false. `span` still hands `fn` a UUID trace id (API.md §10): the enclosing fastroai span's,
 * or a new one. It does not make its own spans enclosing (that would cost an AsyncLocalStorage
 * context per call for ids nothing records), so spans nested in a NoOpTracer span get new ids.
 */
export class NoOpTracer implements Tracer {
  span<T>(_name: string, fn: (traceId: string) => Promise<T>, _attributes?: Record<string, unknown>): Promise<T> {
    return fn(traceIdForSpan());
  }
  logMetric(_traceId: string, _name: string, _value: unknown): void {}
  logError(_traceId: string, _error: unknown, _context?: Record<string, unknown>): void {}
}

/** One shared instance: the tracer keeps no state. */
export const NOOP_TRACER: Tracer = new NoOpTracer();
