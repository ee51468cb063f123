/**
 * What fastroai calls to trace a run. Implement it for any backend; `SimpleTracer` logs,
 * `NoOpTracer` does nothing, `OpenTelemetryTracer` opens real spans.
 *
 * A run opens `pipeline.<name>`, each step attempt `step.<stepId>` inside it, each agent call
 * `fastroai.agent.run` inside that.
 */
export interface Tracer {
  /** Runs `fn` inside a span named `name`; `fn` receives the span's trace id. */
  span<T>(name: string, fn: (traceId: string) => Promise<T>, attributes?: Record<string, unknown>): Promise<T>;
  /** Records a metric on the span with `traceId`. */
  logMetric(traceId: string, name: string, value: unknown): void;
  /** Records an error on the span with `traceId`. */
  logError(traceId: string, error: unknown, context?: Record<string, unknown>): void;
}
