import {
  isSpanContextValid,
  SpanStatusCode,
  trace,
  type Attributes,
  type AttributeValue,
  type Span,
  type SpanContext,
  type Tracer as OtelTracer,
} from '@opentelemetry/api';
import { callSafely, reportTracerFailure } from './call-safely';
import type { Tracer } from './tracer';
import { runWithTraceId, traceIdForSpan } from './trace-id-scope';

/** The instrumentation scope name of the default OpenTelemetry tracer. */
export const OPEN_TELEMETRY_SCOPE = 'fastroai';

/**
 * A {@link Tracer} that opens real OpenTelemetry spans (`@opentelemetry/api`), so fastroai
 * runs show up in Jaeger, Honeycomb, Datadog, Logfire, … as
 * `pipeline.<name>` → `step.<stepId>` → `fastroai.agent.run`.
 *
 * - `span` starts an active span (`startActiveSpan`): spans opened inside it, including in
 *   steps running in parallel, become its children. Register a context manager, as every
 *   OpenTelemetry Node setup does (`AsyncLocalStorageContextManager`, or the Node SDK), or a
 *   span started after an `await` loses its parent.
 * - A failure records the exception on the span and sets its status to `ERROR`.
 * - The trace id handed to `fn` is a UUID, as every tracer's (API.md §10): the span's
 *   OpenTelemetry trace id written as one (its 32 hex digits with the UUID's dashes: remove them
 *   for the id a backend shows), or, when no tracer provider is registered (spans are then
 *   no-ops), a new UUID shared by the spans opened inside it, as the other tracers do.
 * - `logMetric` sets an attribute on the active span of that trace (agent calls log
 *   `input_tokens`, `output_tokens`, `cost_microcents`); `logError` records an exception event.
 * - A backend that throws (an exporter, a span processor, a broken tracer) never changes the
 *   outcome: `span` runs its function exactly once and returns its result; the failure is
 *   reported once with `console.warn` and ignored.
 *
 * @example
 * const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
 * provider.register();
 * await pipeline.execute(input, deps, new OpenTelemetryTracer());
 */
export class OpenTelemetryTracer implements Tracer {
  private readonly tracer: OtelTracer;

  /** @param tracer the OpenTelemetry tracer to use. @default trace.getTracer('fastroai') of the global provider */
  constructor(tracer?: OtelTracer) {
    this.tracer = tracer ?? trace.getTracer(OPEN_TELEMETRY_SCOPE);
  }

  span<T>(name: string, fn: (traceId: string) => Promise<T>, attributes?: Record<string, unknown>): Promise<T> {
    let outcome: Promise<T> | undefined;
    const runOnce = (traceId: string): Promise<T> => {
      if (outcome === undefined) {
        try {
          outcome = Promise.resolve(fn(traceId));
        } catch (error) {
          outcome = Promise.reject(error);
        }
      }
      return outcome;
    };
    try {
      const spanned = this.tracer.startActiveSpan(name, { attributes: toAttributes(attributes) }, (span: Span) => this.runSpan(span, runOnce));
      // Settles after the span ended, with fn's own outcome (never the backend's); a backend
      // that did not call back runs fn outside a span.
      const settled = () => {
        if (outcome === undefined) reportTracerFailure(this, `OpenTelemetryTracer span '${name}'`, new Error('startActiveSpan did not call back'));
        return callWithTraceId(undefined, runOnce);
      };
      return Promise.resolve(spanned).then(settled, settled);
    } catch (error) {
      reportTracerFailure(this, `OpenTelemetryTracer span '${name}'`, error);
      return callWithTraceId(undefined, runOnce);
    }
  }

  private async runSpan<T>(span: Span, runOnce: (traceId: string) => Promise<T>): Promise<T> {
    const context = callSafely(this, 'OpenTelemetryTracer span.spanContext', () => span.spanContext(), undefined);
    try {
      const result = await callWithTraceId(context, runOnce);
      callSafely(this, 'OpenTelemetryTracer span.setStatus', () => span.setStatus({ code: SpanStatusCode.OK }));
      return result;
    } catch (error) {
      callSafely(this, 'OpenTelemetryTracer span.recordException', () => {
        span.recordException(toException(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
      });
      throw error;
    } finally {
      callSafely(this, 'OpenTelemetryTracer span.end', () => span.end());
    }
  }

  logMetric(traceId: string, name: string, value: unknown): void {
    callSafely(this, 'OpenTelemetryTracer logMetric', () => {
      const span = activeSpanOf(traceId);
      const attribute = toAttributeValue(value);
      if (span !== undefined && attribute !== undefined) span.setAttribute(name, attribute);
    });
  }

  logError(traceId: string, error: unknown, context?: Record<string, unknown>): void {
    callSafely(this, 'OpenTelemetryTracer logError', () => {
      const span = activeSpanOf(traceId);
      if (span === undefined) return;
      span.recordException(toException(error));
      if (context !== undefined) span.addEvent('fastroai.error.context', toAttributes(context));
    });
  }
}

/**
 * Calls `fn` with the span's OpenTelemetry trace id as a UUID (shared by nested spans through
 * OpenTelemetry's context); without a registered provider (spans are no-ops with an all-zero id)
 * or a span, with a new UUID shared by the spans opened inside.
 */
function callWithTraceId<T>(context: SpanContext | undefined, fn: (traceId: string) => Promise<T>): Promise<T> {
  if (context !== undefined && isSpanContextValid(context)) return fn(asUuid(context.traceId));
  const traceId = traceIdForSpan();
  return runWithTraceId(traceId, () => fn(traceId));
}

/** An OpenTelemetry trace id (32 hex digits) written as a UUID: 8-4-4-4-12. */
function asUuid(traceId: string): string {
  return `${traceId.slice(0, 8)}-${traceId.slice(8, 12)}-${traceId.slice(12, 16)}-${traceId.slice(16, 20)}-${traceId.slice(20)}`;
}

/** The active span, when it belongs to the trace `traceId` (as handed out: a UUID; or bare hex; an empty id matches any). */
function activeSpanOf(traceId: string): Span | undefined {
  const span = trace.getActiveSpan();
  if (span === undefined) return undefined;
  return traceId === '' || span.spanContext().traceId === traceId.replace(/-/g, '') ? span : undefined;
}

function toAttributes(values: Record<string, unknown> | undefined): Attributes {
  const attributes: Attributes = {};
  if (values === undefined) return attributes;
  for (const [key, value] of Object.entries(values)) {
    const attribute = toAttributeValue(value);
    if (attribute !== undefined) attributes[key] = attribute;
  }
  return attributes;
}

/** OpenTelemetry takes strings, numbers, booleans and homogeneous arrays; anything else goes as JSON. */
function toAttributeValue(value: unknown): AttributeValue | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  if (Array.isArray(value) && value.every((item) => typeof item === 'number')) return value as number[];
  if (Array.isArray(value) && value.every((item) => typeof item === 'boolean')) return value as boolean[];
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function toException(error: unknown): Error | string {
  return error instanceof Error ? error : String(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
