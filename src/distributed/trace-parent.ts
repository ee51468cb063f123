import { context, trace, TraceFlags, type Context } from '@opentelemetry/api';

/**
 * The W3C `traceparent` of the active OpenTelemetry span (the caller's `pipeline.<name>` span
 * while a run launches its steps), or undefined without one.
 */
export function activeTraceParent(): string | undefined {
  const span = trace.getSpanContext(context.active());
  if (span === undefined || !trace.isSpanContextValid(span)) return undefined;
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0')}`;
}

const TRACE_PARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The context whose (remote) parent span is `traceparent`; the active context when it is absent or malformed. */
export function contextOfTraceParent(traceparent: string | undefined): Context {
  const active = context.active();
  const match = traceparent === undefined ? null : TRACE_PARENT.exec(traceparent);
  if (match === null) return active;
  const spanContext = { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16), isRemote: true };
  return trace.isSpanContextValid(spanContext) ? trace.setSpanContext(active, spanContext) : active;
}
