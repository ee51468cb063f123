/**
 * The queue's Redis restarted mid-run (issue 10), a private redis-server killed with SIGKILL
 * while a step runs and another waits in the queue: with AOF on, the jobs survive and the run
 * completes; with persistence off, the jobs are gone and the run fails with an error saying
 * so, without hanging. The store (a SQLite file) is not the queue's Redis.
 */
import { StepExecutionError } from 'fastroai';
import { within } from '../support/async-helpers';
import { createPrivateRedisServer, type PrivateRedisServer } from '../support/private-redis-server';
import { DistributedFixture } from './support/distributed-fixture';
import { DISTRIBUTED_INPUT, DISTRIBUTED_STEPS, distributedPipeline, executionsOf } from './support/distributed-pipeline';
import { killAll, waitUntil } from './support/processes';

jest.setTimeout(180_000);

/** Generous: only detects a hang. */
const HANG_MS = 60_000;

let server: PrivateRedisServer;
let fixture: DistributedFixture;

afterEach(async () => {
  await killAll();
  await fixture.dispose();
  await server.dispose();
});

/** Starts the run with b running (slow) on the only worker and c waiting in the queue, then restarts Redis. */
async function runAcrossRestart(persistence: string[]): Promise<{ outcome: unknown; store: ReturnType<DistributedFixture['store']> }> {
  server = await createPrivateRedisServer(persistence);
  await server.start();
  fixture = new DistributedFixture(server.port);
  await fixture.startWorker('w1', { slow: { b: 2_000 }, lockDuration: 5_000, stalledInterval: 1_000 });
  const store = fixture.store();
  const run = distributedPipeline({ ledger: fixture.ledger, label: 'caller' }).execute(DISTRIBUTED_INPUT, undefined, {
    store,
    runner: fixture.runner(500),
    runId: 'redis-restart',
  });
  const outcome = within<unknown>(run.then((result) => ({ output: result.output }), (error: unknown) => ({ error })), HANG_MS, 'hung');
  await waitUntil('b to start', () => executionsOf(fixture.ledger, 'b') === 1);
  await server.kill();
  await server.start();
  return { outcome: await outcome, store };
}

it('completes when Redis restarts with AOF on (appendfsync always): each step recorded once', async () => {
  const { outcome, store } = await runAcrossRestart(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);
  expect(outcome).toMatchObject({ output: { final: expect.stringMatching(/^lisbon\/b:\d+\|6,2023!e:\d+$/) } });
  const records = (await store.getRun('redis-restart'))!.steps;
  expect(records.map((record) => `${record.stepId}@${record.generation}`).sort()).toEqual(DISTRIBUTED_STEPS.map((id) => `${id}@1`));
  for (const id of ['c', 'd', 'e', 'f']) expect(executionsOf(fixture.ledger, id)).toBe(1);
});

it('fails with an error naming the lost job when Redis restarts without persistence (no hang)', async () => {
  const { outcome, store } = await runAcrossRestart(['--save', '', '--appendonly', 'no']);
  expect(outcome).not.toBe('hung');
  const error = (outcome as { error: unknown }).error;
  expect(StepExecutionError.isInstance(error)).toBe(true);
  // c waited in the queue; b ran on the worker, but its job is gone too (the worker's late record of b is then refused as a duplicate).
  expect(['b', 'c']).toContain((error as StepExecutionError).stepId);
  expect((error as Error).message).toMatch(/gone from the queue .* restarted without persistence/);
  expect((await store.getRun('redis-restart'))!.run.status).toBe('failed');
});
