export type { Tracer } from './tracer';
export { NoOpTracer } from './noop-tracer';
export { SimpleTracer, type TracerLogger } from './simple-tracer';
export { OpenTelemetryTracer } from './open-telemetry-tracer';
