/**
 * A step worker of the distributed sample: takes the document pipeline's step jobs from the
 * queue, runs them, and records their outputs in the shared store. Start as many as you like,
 * on this machine or others (with a shared store), then run the caller:
 *
 *   npx ts-node samples/distributed/worker.ts w1 &
 *   npx ts-node samples/distributed/worker.ts w2 &
 *   npx ts-node samples/distributed/caller.ts
 *
 * argv[2] names the worker (default `<hostname>:<pid>`). SIGTERM or Ctrl-C closes it (running steps finish first).
 */
import { createStepWorker } from 'fastroai/distributed';
import { documentPipeline, sampleSettings } from './document-pipeline';

async function main(): Promise<void> {
  const { connection, prefix, store } = sampleSettings();
  const worker = createStepWorker({ pipelines: [documentPipeline()], store, connection, prefix, name: process.argv[2] });
  worker.on('error', (error) => console.error(`worker ${worker.name}: ${error.message}`));
  await worker.waitUntilReady();
  console.log(`worker ${worker.name} ready`);
  const stop = () => {
    void worker.close().then(() => store.close()).then(() => console.log(`worker ${worker.name} closed`));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
