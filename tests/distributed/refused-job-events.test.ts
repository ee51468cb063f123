/**
 * A step whose job a worker refuses (no such pipeline) is seen to start before it fails in the
 * caller's stream (`step.started`, then `step.failed`), as in an in-process run.
 */
import { randomUUID } from 'node:crypto';
import { MemoryRunStore, Pipeline, step, type PipelineEvent } from 'fastroai';
import { QueueRunner, createStepWorker } from 'fastroai/distributed';
import { deleteKeys } from './support/distributed-fixture';

jest.setTimeout(60_000);

const CONNECTION = { host: '127.0.0.1', port: 6379 };

it('reports step.started before step.failed for a step whose job a worker refused', async () => {
  const prefix = `fastroai-test-${randomUUID()}`;
  const store = new MemoryRunStore();
  const other = new Pipeline({ name: 'other', steps: { x: step(() => 1) } });
  const worker = createStepWorker({ pipelines: [other], store, connection: CONNECTION, prefix, name: 'w-other' });
  worker.on('error', () => undefined);
  const runner = new QueueRunner({ connection: CONNECTION, prefix });
  try {
    await worker.waitUntilReady();
    const pipeline = new Pipeline({ name: 'refused', steps: { a: step(() => 1) } });
    const events: PipelineEvent[] = [];
    await expect(pipeline.execute({}, undefined, { store, runner, runId: 'refused', onEvent: (event) => events.push(event) })).rejects.toThrow(/has no pipeline 'refused'/);

    // In process, the same failing step gives: pipeline.started, step.started, step.failed, pipeline.failed.
    const inProcess: PipelineEvent[] = [];
    const failing = new Pipeline({ name: 'refused', steps: { a: step(() => { throw new Error('boom'); }) } });
    await expect(failing.execute({}, undefined, { store: new MemoryRunStore(), onEvent: (event) => inProcess.push(event) })).rejects.toThrow();

    expect(events.map((event) => event.type)).toEqual(inProcess.map((event) => event.type));
  } finally {
    await runner.close();
    await worker.close();
    await deleteKeys(CONNECTION.port, `${prefix}:*`);
  }
});
