/**
 * What a test of a caller that dies or stalls and a resume that takes its run over needs, in
 * this process, on the local Redis under a private prefix: a MemoryRunStore, one step worker
 * (`w1`, concurrency 1 unless told), the first caller's QueueRunner, the resumer's (reconciling every
 * 500 ms) and a BullMQ Queue to look at the jobs. `dispose` closes them all and deletes the keys.
 */
import { randomUUID } from 'node:crypto';
import { MemoryRunStore, type Pipeline } from 'fastroai';
import { QueueRunner, createStepWorker } from 'fastroai/distributed';
import { Queue } from 'bullmq';
import { deleteKeys } from './distributed-fixture';

const CONNECTION = { host: '127.0.0.1', port: 6379 };

export function resumedCallerSetup(workerPipeline: Pipeline, concurrency = 1) {
  const prefix = `fastroai-test-${randomUUID()}`;
  const store = new MemoryRunStore();
  const worker = createStepWorker({ pipelines: [workerPipeline], store, connection: CONNECTION, prefix, name: 'w1', concurrency });
  worker.on('error', () => undefined);
  const first = new QueueRunner({ connection: CONNECTION, prefix });
  const resumer = new QueueRunner({ connection: CONNECTION, prefix, reconcileIntervalMs: 500 });
  const queue = new Queue('fastroai-steps', { connection: CONNECTION, prefix });
  return {
    store,
    worker,
    first,
    resumer,
    queue,
    async dispose(): Promise<void> {
      await resumer.close();
      await first.close();
      await worker.close();
      await queue.close();
      await deleteKeys(CONNECTION.port, `${prefix}:*`);
    },
  };
}
