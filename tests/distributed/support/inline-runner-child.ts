/**
 * A script written as API.md §13's example: `runner: new QueueRunner({ connection })` in
 * `execute` (argv[2]: the key prefix; argv[3]: the mode), with a worker of its own.
 * - `inline`: the runner is never closed. Runs the pipeline twice (the runner idle in between),
 *   closes the worker and the store, says `{ type: 'result', outputs }` and lets go of its IPC
 *   channel: it must then exit by itself.
 * - `close`: runs it once, says the result and lets go of its IPC channel, then closes the
 *   worker, the runner and the store, and prints `closed` once they all are (nothing else keeps
 *   the process up meanwhile: `runner.close()` must).
 */
import { MemoryRunStore, Pipeline, step } from 'fastroai';
import { QueueRunner, createStepWorker } from 'fastroai/distributed';

async function main(): Promise<void> {
  const [prefix, mode] = process.argv.slice(2);
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
  const outputs = [(await pipeline.execute({}, undefined, { store, runner })).output];
  if (mode === 'close') {
    await new Promise<void>((resolve) => process.send!({ type: 'result', outputs }, () => resolve()));
    process.disconnect();
    await worker.close();
    // The worker's connections gone for good: nothing but the runner's may hold the process.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await runner.close();
    await store.close();
    process.stdout.write('closed\n');
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  outputs.push((await pipeline.execute({}, undefined, { store, runner })).output);
  await worker.close();
  await store.close();
  process.send!({ type: 'result', outputs }, () => process.disconnect());
}

void main();
