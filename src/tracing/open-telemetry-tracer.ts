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
 * - The trace id handed to `fn` is the span's OpenTelemetry trace id (32 hex digits), or,
 *   when no tracer provider is registered (spans are then no-ops), a UUID shared by the spans
 *   opened inside it, as the other tracers do.
 * - `logMetric` sets an attribute on the active span of that trace (agent calls log
 *   `input_tokens`, `output_tokens`, `cost_microcents`); `logError` records an exception event.
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
    return this.tracer.startActiveSpan(name, { attributes: toAttributes(attributes) }, async (span: Span) => {
      try {
        const result = await callWithTraceId(span.spanContext(), fn);
        span.setStatus({ code: SpanStatusCode.OK });
        return result;
      } catch (error) {
        span.recordException(toException(error));
        span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  logMetric(traceId: string, name: string, value: unknown): void {
    const span = activeSpanOf(traceId);
    const attribute = toAttributeValue(value);
    if (span !== undefined && attribute !== undefined) span.setAttribute(name, attribute);
  }

  logError(traceId: string, error: unknown, context?: Record<string, unknown>): void {
    const span = activeSpanOf(traceId);
    if (span === undefined) return;
    span.recordException(toException(error));
    if (context !== undefined) span.addEvent('fastroai.error.context', toAttributes(context));
  }
}

/**
 * Calls `fn` with the span's OpenTelemetry trace id (32 hex digits: the id backends show, shared
 * by nested spans through OpenTelemetry's context). Without a registered provider spans are
 * no-ops with an all-zero id: then a UUID, as the other tracers hand out, shared by the spans
 * opened inside this one.
 */
function callWithTraceId<T>(context: SpanContext, fn: (traceId: string) => Promise<T>): Promise<T> {
  if (isSpanContextValid(context)) return fn(context.traceId);
  const traceId = traceIdForSpan();
  return runWithTraceId(traceId, () => fn(traceId));
}

/** The active span, when it belongs to the trace `traceId` (an empty id matches any). */
function activeSpanOf(traceId: string): Span | undefined {
  const span = trace.getActiveSpan();
  if (span === undefined) return undefined;
  return traceId === '' || span.spanContext().traceId === traceId ? span : undefined;
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
