/**
 * A script written as API.md §13's example: `runner: new QueueRunner({ connection })` inline in
 * `execute`, never closed. Runs the pipeline twice (the runner idle in between) with a worker of
 * its own, closes the worker and the store, says `{ type: 'result', outputs }` and lets go of
 * its IPC channel: it must then exit by itself (argv[2]: the key prefix).
 */
import { MemoryRunStore, Pipeline, step } from 'fastroai';
import { QueueRunner, createStepWorker } from 'fastroai/distributed';

async function main(): Promise<void> {
  const prefix = process.argv[2];
  const connection = { host: '127.0.0.1', port: 6379 };
  const store = new MemoryRunStore();
  const pipeline = new Pipeline({
    name: 'inline',
    steps: { a: step(() => 'a'), b: step((ctx) => `${ctx.getDependency<string>('a')}b`) },
    dependencies: { b: ['a'] },
  });
  const worker = createStepWorker({ pipelines: [pipeline], store, connection, prefix });
  await worker.waitUntilReady();
  const runner = new QueueRunner({ connection, prefix });
  const first = await pipeline.execute({}, undefined, { store, runner });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const second = await pipeline.execute({}, undefined, { store, runner });
  await worker.close();
  await store.close();
  process.send!({ type: 'result', outputs: [first.output, second.output] }, () => process.disconnect());
}

void main();
