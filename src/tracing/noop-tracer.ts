import type { Tracer } from './tracer';

/** A tracer that records nothing: used when none is given and when `PipelineConfig.trace` is false. */
export class NoOpTracer implements Tracer {
  span<T>(_name: string, fn: (traceId: string) => Promise<T>): Promise<T> {
    return fn('');
  }
  logMetric(): void {}
  logError(): void {}
}

/** One shared instance: the tracer keeps no state. */
export const NOOP_TRACER: Tracer = new NoOpTracer();
