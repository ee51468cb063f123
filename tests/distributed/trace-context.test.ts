/**
 * Trace context crosses the queue (issue 10): with OpenTelemetry in the caller and in a worker
 * process, each `step.<id>` span the worker opens is a child of the caller's `pipeline.<name>`
 * span (W3C traceparent in the job).
 */
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryTracer } from 'fastroai';
import { useDistributedFixture } from './support/use-distributed-fixture';
import { DISTRIBUTED_INPUT, DISTRIBUTED_STEPS, distributedPipeline } from './support/distributed-pipeline';
import type { SpanSummary } from './support/step-worker-child';

jest.setTimeout(120_000);

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const fixture = useDistributedFixture();

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});

afterAll(async () => {
  context.disable();
  await provider.shutdown();
});

it.each([
  ['its tracer option', true],
  ["the process's global provider, with no tracer option (createStepWorker as API.md §13 has it)", 'global'],
] as const)("makes each worker's step.<id> span a child of the caller's pipeline span: through %s", async (_, trace) => {
  exporter.reset();
  const worker = await fixture.startWorker(`w-traced-${String(trace)}`, { trace });
  await distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute(DISTRIBUTED_INPUT, undefined, {
    store: fixture.store(),
    runner: fixture.runner(),
    runId: `traced-${String(trace)}`,
    tracer: new OpenTelemetryTracer(provider.getTracer('fastroai-caller')),
  });
  const pipelineSpan = exporter.getFinishedSpans().find((span) => span.name === 'pipeline.distributed-test')!;
  expect(pipelineSpan).toBeDefined();

  worker.process.send('spans');
  const { spans } = (await worker.message('spans')) as unknown as { spans: SpanSummary[] };
  const stepSpans = spans.filter((span) => span.name.startsWith('step.'));
  expect(stepSpans.map((span) => span.name).sort()).toEqual(DISTRIBUTED_STEPS.map((id) => `step.${id}`));
  for (const span of stepSpans) {
    expect(span.traceId).toBe(pipelineSpan.spanContext().traceId);
    expect(span.parentSpanId).toBe(pipelineSpan.spanContext().spanId);
  }
});
