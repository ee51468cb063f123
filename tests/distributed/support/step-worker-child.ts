/**
 * A worker process of the distributed tests: `createStepWorker` for the test pipeline
 * (./distributed-pipeline.ts) against the store named by argv[2] (../../durable/support/store-specs.ts)
 * and the options of argv[3] (JSON, {@link WorkerChildOptions}). Says `{ type: 'ready' }` over
 * IPC once it takes jobs; on the message `close` it closes and exits. With `trace`, it traces
 * with OpenTelemetry into memory and answers the message `spans` with the finished spans:
 * `true` through the worker's `tracer` option, `'global'` through a global provider (no option).
 * Started from the repo root with `node -r ts-node/register/transpile-only -r tsconfig-paths/register`.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryTracer } from 'fastroai';
import { createStepWorker } from 'fastroai/distributed';
import { openStoreSpec } from '../../durable/support/store-specs';
import { distributedPipeline, type DistributedPipelineOptions } from './distributed-pipeline';

export interface WorkerChildOptions extends Omit<DistributedPipelineOptions, 'label'> {
  name: string;
  redisPort: number;
  prefix: string;
  lockDuration?: number;
  stalledInterval?: number;
  concurrency?: number;
  trace?: boolean | 'global';
}

/** A finished span as plain data. */
export interface SpanSummary {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
}

async function main(): Promise<void> {
  const [spec, json] = process.argv.slice(2);
  const options = JSON.parse(json) as WorkerChildOptions;
  const store = openStoreSpec(spec);
  const exporter = new InMemorySpanExporter();
  let tracer: OpenTelemetryTracer | undefined;
  if (options.trace !== undefined && options.trace !== false) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    if (options.trace === 'global') trace.setGlobalTracerProvider(provider);
    else tracer = new OpenTelemetryTracer(provider.getTracer('fastroai-worker'));
  }
  const worker = createStepWorker({
    pipelines: [distributedPipeline({ ...options, label: options.name })],
    store,
    connection: { host: '127.0.0.1', port: options.redisPort },
    prefix: options.prefix,
    name: options.name,
    lockDuration: options.lockDuration,
    stalledInterval: options.stalledInterval,
    concurrency: options.concurrency,
    tracer,
  });
  worker.on('error', () => undefined); // a lost lock's refused completion, reconnects: expected here
  await worker.waitUntilReady();
  process.on('message', (message: unknown) => {
    if (message === 'spans') {
      const spans: SpanSummary[] = exporter.getFinishedSpans().map((span) => ({
        name: span.name,
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        parentSpanId: span.parentSpanContext?.spanId,
      }));
      process.send!({ type: 'spans', spans });
    } else if (message === 'close') {
      void worker.close().then(async () => {
        await store.close();
        process.removeAllListeners('message');
        process.disconnect();
      });
    }
  });
  process.send!({ type: 'ready' });
}

void main();
