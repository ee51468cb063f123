/**
 * A worker's per-run economies (issue 10), with StepJobProcessor on real BullMQ jobs (taken by a
 * manual worker on the local Redis under a unique prefix) and a MemoryRunStore: the records of
 * jobs of one run that end together go to the store in one `recordSteps` call, each job with its
 * own answer (a record another worker wrote first comes back `duplicate`), and their job ids to
 * the callers in one wake-up message once the store has them; a run's deps are built once per
 * worker, however many of its steps the worker runs; a job cancelled before it reached the worker
 * is not run, unless a resume added it again.
 */
import { randomUUID } from 'node:crypto';
import { MemoryRunStore, Pipeline, step, type StepContext, type StepRecord } from 'fastroai';
import { stepJobId } from 'fastroai/distributed';
import { Queue, Worker, type Job } from 'bullmq';
import { StepJobProcessor } from '../../src/distributed/step-job-processor';
import type { StepJobData, StepJobResult } from '../../src/distributed/step-job-data';
import type { StepProgressMessage, StepsEndedMessage } from '../../src/distributed/step-worker-message';
import { workerPipelinesOf, type WorkerPipeline } from '../../src/distributed/worker-pipeline';
import { encodeValue } from '../../src/store/encode-value';
import { decodeValue } from '../../src/store/decode-value';
import { deleteKeys } from './support/distributed-fixture';
import { makeStepRecord } from '../store/run-store-contract';

jest.setTimeout(30_000);

const CONNECTION = { host: '127.0.0.1', port: 6379 };
const QUEUE_NAME = 'processor';
const STEP_IDS = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'];

let prefix: string;
let queue: Queue<StepJobData, StepJobResult>;
let taker: Worker<StepJobData, StepJobResult>;

beforeEach(() => {
  prefix = `fastroai-processor-${randomUUID()}`;
  queue = new Queue(QUEUE_NAME, { connection: CONNECTION, prefix });
  taker = new Worker(QUEUE_NAME, null, { connection: CONNECTION, prefix, lockDuration: 10_000 });
  taker.on('error', () => undefined);
});

afterEach(async () => {
  await taker.close();
  await queue.close();
  await deleteKeys(CONNECTION.port, `${prefix}:*`);
});

/** Eight independent steps, each returning its deps' `build` number. */
function depsPipeline(): Pipeline {
  const steps = Object.fromEntries(STEP_IDS.map((id) => [id, step((ctx: StepContext) => (ctx.deps as { build: number }).build)]));
  return new Pipeline({ name: 'processor-test', steps, outputStep: 's8' });
}

/** The run as a caller creates it. */
async function createRun(store: MemoryRunStore, pipeline: WorkerPipeline, runId: string): Promise<void> {
  const now = Date.now();
  await store.createRun({
    runId,
    pipeline: pipeline.definition.name,
    fingerprint: pipeline.fingerprint,
    input: encodeValue({}),
    status: 'running',
    createdAt: now,
    updatedAt: now,
    costMicrocents: 0,
    owner: 'caller',
    epoch: 1,
    leaseUntil: now + 60_000,
  });
}

/** Enqueues the steps' jobs of `runId` and takes them all (each with its own lock token). */
async function takeJobs(
  pipeline: WorkerPipeline,
  runId: string,
  stepIds: string[],
  extra: Partial<StepJobData> = {},
): Promise<Array<{ job: Job<StepJobData, StepJobResult>; token: string }>> {
  await queue.addBulk(
    stepIds.map((stepId) => ({
      name: stepId,
      data: { runId, stepId, generation: 1, pipeline: pipeline.definition.name, fingerprintDigest: pipeline.fingerprintDigest, epoch: 1, ...extra },
      opts: { jobId: stepJobId(runId, stepId, 1) },
    })),
  );
  const taken = [];
  for (let i = 0; i < stepIds.length; i++) {
    const token = `token-${i}`;
    taken.push({ job: (await taker.getNextJob(token))!, token });
  }
  return taken;
}

/** A processor of this worker over `store`, building deps with `deps`. */
function processorOf(
  pipeline: Pipeline,
  store: MemoryRunStore,
  deps: (run: { runId: string }) => unknown,
  publish: (message: StepProgressMessage) => Promise<void> = async () => undefined,
  ended: (message: StepsEndedMessage) => void = () => undefined,
): StepJobProcessor {
  return new StepJobProcessor({ workerId: 'w1', pipelines: workerPipelinesOf([pipeline]), store, lockDuration: 10_000, tracer: undefined, deps, publish, ended });
}

it('writes the records of jobs of one run that end together in one recordSteps call, each job with its own answer, and wakes the callers once for them', async () => {
  const pipeline = depsPipeline();
  const workerPipeline = workerPipelinesOf([pipeline]).get('processor-test')!;
  const store = new MemoryRunStore();
  await createRun(store, workerPipeline, 'run-1');
  const batches: string[][] = [];
  const recordSteps = store.recordSteps.bind(store);
  store.recordSteps = async (runId: string, epoch: number, records: StepRecord[]) => {
    // Another worker raced this one on s3 and recorded it first.
    if (batches.length === 0) await recordSteps(runId, epoch, [{ ...records.find((record) => record.stepId === 's3')!, workerId: 'w2' }]);
    batches.push(records.map((record) => record.stepId));
    return recordSteps(runId, epoch, records);
  };
  const wakeUps: StepsEndedMessage[] = [];
  const processor = processorOf(pipeline, store, () => ({ build: 1 }), undefined, (message) => wakeUps.push(message));
  const jobs = await takeJobs(workerPipeline, 'run-1', STEP_IDS);

  const results = await Promise.all(jobs.map(({ job, token }) => processor.process(job, token)));

  expect(batches).toEqual([STEP_IDS]);
  // One wake-up for the batch, naming every job whose record is in the store (s3's duplicate too).
  expect(wakeUps).toEqual([{ recorded: STEP_IDS.map((id) => stepJobId('run-1', id, 1)) }]);
  expect(results.map((result) => result.outcome)).toEqual(STEP_IDS.map((id) => (id === 's3' ? 'duplicate' : 'recorded')));
  const records = (await store.getRun('run-1'))!.steps;
  expect(records).toHaveLength(STEP_IDS.length);
  expect(records.find((record) => record.stepId === 's3')!.workerId).toBe('w2');
  expect(records.filter((record) => record.workerId === 'w1')).toHaveLength(STEP_IDS.length - 1);
});

it("builds a run's deps once on a worker, for all of its steps there", async () => {
  const pipeline = depsPipeline();
  const workerPipeline = workerPipelinesOf([pipeline]).get('processor-test')!;
  const store = new MemoryRunStore();
  await createRun(store, workerPipeline, 'run-a');
  await createRun(store, workerPipeline, 'run-b');
  const builds: string[] = [];
  const processor = processorOf(pipeline, store, ({ runId }) => {
    builds.push(runId);
    return { build: builds.length };
  });

  // Four steps of each run at once, then the other four one by one.
  const first = [...(await takeJobs(workerPipeline, 'run-a', STEP_IDS.slice(0, 4))), ...(await takeJobs(workerPipeline, 'run-b', STEP_IDS.slice(0, 4)))];
  await Promise.all(first.map(({ job, token }) => processor.process(job, token)));
  for (const runId of ['run-a', 'run-b']) {
    for (const { job, token } of await takeJobs(workerPipeline, runId, STEP_IDS.slice(4))) await processor.process(job, token);
  }

  expect(builds).toEqual(['run-a', 'run-b']);
  for (const [runId, build] of [['run-a', 1], ['run-b', 2]] as const) {
    const outputs = (await store.getRun(runId))!.steps.map((record) => decodeValue(record.output!));
    expect(outputs).toEqual(STEP_IDS.map(() => build));
  }
});

it('sends progress messages only for runs with a listener (jobs without progress: false)', async () => {
  const pipeline = depsPipeline();
  const workerPipeline = workerPipelinesOf([pipeline]).get('processor-test')!;
  const store = new MemoryRunStore();
  await createRun(store, workerPipeline, 'run-quiet');
  await createRun(store, workerPipeline, 'run-watched');
  const published: StepProgressMessage[] = [];
  const processor = processorOf(pipeline, store, () => ({ build: 1 }), async (message) => {
    published.push(message);
  });

  const quiet = await takeJobs(workerPipeline, 'run-quiet', ['s1', 's2'], { progress: false });
  const watched = await takeJobs(workerPipeline, 'run-watched', ['s1']);
  const results = await Promise.all([...quiet, ...watched].map(({ job, token }) => processor.process(job, token)));

  expect(results.map((result) => result.outcome)).toEqual(['recorded', 'recorded', 'recorded']);
  expect(published).toEqual([{ jobId: stepJobId('run-watched', 's1', 1), type: 'step.started', attempt: 1, workerId: 'w1' }]);
});

/** Run `run-1` of eight independent steps that count their executions, and a processor for it. */
async function countingRun(): Promise<{ workerPipeline: WorkerPipeline; store: MemoryRunStore; processor: StepJobProcessor; executions: () => number }> {
  let executions = 0;
  const pipeline = new Pipeline({ name: 'processor-test', steps: Object.fromEntries(STEP_IDS.map((id) => [id, step(() => ++executions)])), outputStep: 's8' });
  const workerPipeline = workerPipelinesOf([pipeline]).get('processor-test')!;
  const store = new MemoryRunStore();
  await createRun(store, workerPipeline, 'run-1');
  return { workerPipeline, store, processor: processorOf(pipeline, store, () => ({})), executions: () => executions };
}

it('does not run a job whose cancel message came before the job did (taken between the message and its removal from the queue)', async () => {
  const { workerPipeline, store, processor, executions } = await countingRun();
  const [first, second] = await takeJobs(workerPipeline, 'run-1', ['s1', 's2']);

  processor.cancel(first.job.id!, 'the run was cancelled', 1); // no job of that id runs here yet
  const results = await Promise.all([processor.process(first.job, first.token), processor.process(second.job, second.token)]);

  expect(results.map((result) => result.outcome)).toEqual(['cancelled', 'recorded']);
  expect(executions()).toBe(1);
  expect((await store.getRun('run-1'))!.steps.map((record) => record.stepId)).toEqual(['s2']);
});

it("runs a job a resume added again (a later epoch) though the same job's cancel message came at the earlier epoch", async () => {
  const { workerPipeline, store, processor, executions } = await countingRun();
  processor.cancel(stepJobId('run-1', 's1', 1), 'the run was cancelled', 1);
  await store.claimRun('run-1', 'caller', 60_000); // the resume: epoch 2
  const [resumed] = await takeJobs(workerPipeline, 'run-1', ['s1'], { epoch: 2 });

  expect((await processor.process(resumed.job, resumed.token)).outcome).toBe('recorded');
  expect(executions()).toBe(1);
});

/** Run `run-1` of `a → b → c`, and `j` after `b` and `x`; a store whose reads are counted. */
async function chainRun(): Promise<{ pipeline: Pipeline; workerPipeline: WorkerPipeline; store: MemoryRunStore; reads: () => number }> {
  const pipeline = new Pipeline({
    name: 'processor-test',
    steps: {
      a: step(() => 1),
      b: step((ctx: StepContext) => ctx.getDependency<number>('a') + 1),
      c: step((ctx: StepContext) => ctx.getDependency<number>('b') * 10),
      x: step(() => 5),
      j: step((ctx: StepContext) => ctx.getDependency<number>('b') + ctx.getDependency<number>('x')),
    },
    dependencies: { b: ['a'], c: ['b'], j: ['b', 'x'] },
    outputStep: 'c',
  });
  const workerPipeline = workerPipelinesOf([pipeline]).get('processor-test')!;
  const store = new MemoryRunStore();
  await createRun(store, workerPipeline, 'run-1');
  let reads = 0;
  for (const method of ['getRun', 'getStepRecord', 'getStepRecords'] as const) {
    const read = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      reads++;
      return read(...args);
    };
  }
  return { pipeline, workerPipeline, store, reads: () => reads };
}

/** Worker w1 ran `a` (it holds the run), worker w2 ran `b`: w2's wake-up, and w1's processor. */
async function bRecordedByAnotherWorker(): Promise<{ w1: StepJobProcessor; wakeUp: StepsEndedMessage; take: (stepId: string) => Promise<{ job: Job<StepJobData, StepJobResult>; token: string }>; store: MemoryRunStore; reads: () => number }> {
  const { pipeline, workerPipeline, store, reads } = await chainRun();
  const wakeUps: StepsEndedMessage[] = [];
  const w1 = processorOf(pipeline, store, () => ({}));
  const w2 = new StepJobProcessor({ workerId: 'w2', pipelines: workerPipelinesOf([pipeline]), store, lockDuration: 10_000, tracer: undefined, deps: undefined, publish: async () => undefined, ended: (message) => wakeUps.push(message) });
  const take = async (stepId: string) => (await takeJobs(workerPipeline, 'run-1', [stepId]))[0];
  const a = await take('a');
  await w1.process(a.job, a.token);
  const b = await take('b');
  await w2.process(b.job, b.token);
  return { w1, wakeUp: wakeUps[0], take, store, reads };
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 5_000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** b's record as a store that pushes its records would push it: its JSON. */
async function pushOfB(store: MemoryRunStore): Promise<unknown[]> {
  const b = (await store.getRun('run-1'))!.steps.find((record) => record.stepId === 'b')!;
  return [JSON.parse(JSON.stringify(b))];
}

it("takes a record another worker wrote, that readies a step of a run it holds, from the store's push: nothing is read, for that step's job either", async () => {
  const { w1, take, store, reads } = await bRecordedByAnotherWorker();
  const push = await pushOfB(store);
  const before = reads();
  w1.pushed('run-1', push);
  const c = await take('c');
  expect((await w1.process(c.job, c.token)).outcome).toBe('recorded');

  expect(reads()).toBe(before);
  const stored = (await store.getRun('run-1'))!.steps;
  expect(decodeValue(stored.find((record) => record.stepId === 'c')!.output!)).toBe(20);
});

it('wants the pushes of a run it holds whose steps depend on others, and no other run\'s', async () => {
  const { w1 } = await bRecordedByAnotherWorker();
  expect(w1.wantsPushesOf('run-1')).toBe(true);
  expect(w1.wantsPushesOf('run-2')).toBe(false);
});

it.each([
  ['of another generation', (b: StepRecord) => ({ ...b, generation: 2, output: encodeValue(99, 'b') })],
  ['whose output does not decode', (b: StepRecord) => ({ ...b, output: '{not json' })],
])("does not take a pushed record %s: the step's job reads the record", async (_, forge) => {
  const { w1, take, store, reads } = await bRecordedByAnotherWorker();
  const [b] = (await pushOfB(store)) as StepRecord[];
  w1.pushed('run-1', [forge(b), null, 5, { stepId: 7 }]);
  const before = reads();
  const c = await take('c');
  expect((await w1.process(c.job, c.token)).outcome).toBe('recorded');
  expect(reads()).toBeGreaterThan(before);
  expect(decodeValue((await store.getRun('run-1'))!.steps.find((record) => record.stepId === 'c')!.output!)).toBe(20);
});

it("reads ahead a record another worker wrote that readies a step of a run it holds: that step's job then reads nothing", async () => {
  const { w1, wakeUp, take, store, reads } = await bRecordedByAnotherWorker();
  expect(wakeUp).toEqual({ recorded: [stepJobId('run-1', 'b', 1)] });

  const before = reads();
  w1.recorded((wakeUp as { recorded: string[] }).recorded);
  await until(() => reads() > before);
  const readAhead = reads();
  const c = await take('c');
  expect((await w1.process(c.job, c.token)).outcome).toBe('recorded');

  expect(readAhead).toBe(before + 1);
  expect(reads()).toBe(readAhead); // c found b's output in w1's view
  const records = (await store.getRun('run-1'))!.steps;
  expect(decodeValue(records.find((record) => record.stepId === 'c')!.output!)).toBe(20);
});

it('has a job wait for a read ahead in flight rather than read the record again', async () => {
  const { w1, wakeUp, take, store, reads } = await bRecordedByAnotherWorker();
  const c = await take('c');
  const before = reads();

  w1.recorded((wakeUp as { recorded: string[] }).recorded);
  expect((await w1.process(c.job, c.token)).outcome).toBe('recorded');

  expect(reads()).toBe(before + 1);
  expect(decodeValue((await store.getRun('run-1'))!.steps.find((record) => record.stepId === 'c')!.output!)).toBe(20);
});

it('reads nothing ahead for a record of its own, of a run it does not hold, that readies nothing it knows of, or a malformed id', async () => {
  const { w1, wakeUp, reads } = await bRecordedByAnotherWorker();
  const before = reads();
  w1.recorded([
    stepJobId('run-1', 'a', 1), // w1 wrote it
    stepJobId('run-2', 'b', 1), // w1 holds no run-2
    stepJobId('run-1', 'x', 1), // readies j only with b, which w1 does not hold yet
    'not-a-job-id',
    '%zz-b-1',
    42,
  ]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(reads()).toBe(before);
  expect(wakeUp).toBeDefined();
});

it('refuses a job whose ancestors the store has no completed record of (a job the caller did not enqueue): the step does not run and nothing is recorded', async () => {
  let ran = 0;
  const pipeline = new Pipeline({
    name: 'processor-test',
    steps: {
      a: step(() => 1),
      b: step((ctx: StepContext) => ctx.getDependency<number>('a') + 1),
      // Reads nothing: without the check it would run, and its record would be the first.
      c: step(() => {
        ran++;
        return 3;
      }),
    },
    dependencies: { b: ['a'], c: ['b'] },
    outputStep: 'c',
  });
  const workerPipeline = workerPipelinesOf([pipeline]).get('processor-test')!;
  const store = new MemoryRunStore();
  await createRun(store, workerPipeline, 'run-1');
  const processor = processorOf(pipeline, store, () => ({}));
  const [a] = await takeJobs(workerPipeline, 'run-1', ['a']);
  expect((await processor.process(a.job, a.token)).outcome).toBe('recorded');
  const [c] = await takeJobs(workerPipeline, 'run-1', ['c']);

  // b, its dependency, has no record; a, b's, has one.
  await expect(processor.process(c.job, c.token)).rejects.toThrow(
    "Step 'c' of run 'run-1' was not run: the store has no completed record of step 'b', whose output it may read",
  );
  expect(ran).toBe(0);
  expect((await store.getRun('run-1'))!.steps.map((record) => record.stepId)).toEqual(['a']);
});

it('names every ancestor without a completed record', async () => {
  const pipeline = new Pipeline({
    name: 'processor-test',
    steps: { a: step(() => 1), b: step(() => 2), c: step(() => 3) },
    dependencies: { b: ['a'], c: ['b'] },
    outputStep: 'c',
  });
  const workerPipeline = workerPipelinesOf([pipeline]).get('processor-test')!;
  const store = new MemoryRunStore();
  await createRun(store, workerPipeline, 'run-1');
  const [c] = await takeJobs(workerPipeline, 'run-1', ['c']);

  await expect(processorOf(pipeline, store, () => ({})).process(c.job, c.token)).rejects.toThrow(
    "the store has no completed record of steps ['a', 'b'], whose outputs it may read",
  );
});

describe('the generations a resumed run plans', () => {
  /**
   * Run `run-1` of chainRun resumed (epoch 2) with a and b restored from generation 1, and b's
   * generation 2 written since: by a job of an earlier epoch that reran b after its caller died.
   */
  async function resumedWithLaterB() {
    const { pipeline, workerPipeline, store } = await chainRun();
    await store.recordSteps('run-1', 1, [
      { ...makeStepRecord('a'), output: encodeValue(1) },
      { ...makeStepRecord('b'), output: encodeValue(2) },
    ]);
    await store.claimRun('run-1', 'caller', 60_000); // its caller resumed it: epoch 2
    await store.recordSteps('run-1', 2, [{ ...makeStepRecord('b', 2), output: encodeValue(100) }]);
    const processor = processorOf(pipeline, store, () => ({}));
    const outputOf = async (stepId: string) => decodeValue((await store.getRun('run-1'))!.steps.find((record) => record.stepId === stepId)!.output!);
    return { workerPipeline, store, processor, outputOf };
  }

  it("reads each ancestor's record at the generation the job's run plans, not its latest", async () => {
    const { workerPipeline, processor, outputOf } = await resumedWithLaterB();
    const [c] = await takeJobs(workerPipeline, 'run-1', ['c'], { epoch: 2 });

    expect((await processor.process(c.job, c.token)).outcome).toBe('recorded');
    // b at generation 1 (2), as the run restored it: not generation 2's 100.
    expect(await outputOf('c')).toBe(20);
  });

  it('reads a later generation the job names', async () => {
    const { workerPipeline, processor, outputOf } = await resumedWithLaterB();
    const [c] = await takeJobs(workerPipeline, 'run-1', ['c'], { epoch: 2, generations: { b: 2 } });

    expect((await processor.process(c.job, c.token)).outcome).toBe('recorded');
    expect(await outputOf('c')).toBe(1000);
  });

  it('refuses a job that names a generation the store has no completed record of, naming it', async () => {
    const { workerPipeline, processor, store } = await resumedWithLaterB();
    const [c] = await takeJobs(workerPipeline, 'run-1', ['c'], { epoch: 2, generations: { b: 3 } });

    await expect(processor.process(c.job, c.token)).rejects.toThrow(
      "Step 'c' of run 'run-1' was not run: the store has no completed record of step 'b' (generation 3), whose output it may read",
    );
    expect((await store.getRun('run-1'))!.steps.some((record) => record.stepId === 'c')).toBe(false);
  });

  it("drops the record of a job of an earlier epoch (its caller died) when a resume reran an ancestor it read, as a cancelled job's; writes it at the new epoch otherwise", async () => {
    const { workerPipeline, processor, store, outputOf } = await resumedWithLaterB();
    // Enqueued at epoch 1, when b had only its generation 1: its record meets epoch 2 and b@2.
    const [c, j] = await takeJobs(workerPipeline, 'run-1', ['c', 'x'], { epoch: 1 });

    // Cancelled: a caller that adopted the job adds it again (its reconciliation).
    expect((await processor.process(c.job, c.token)).outcome).toBe('cancelled');
    expect((await store.getRun('run-1'))!.steps.some((record) => record.stepId === 'c')).toBe(false);
    // x reads nothing the resume reran: its record is written at the new epoch (adopted).
    expect((await processor.process(j.job, j.token)).outcome).toBe('recorded');
    expect(await outputOf('x')).toBe(5);
  });

  it('refuses a job whose generations are malformed', async () => {
    const { workerPipeline, processor } = await resumedWithLaterB();
    const [c] = await takeJobs(workerPipeline, 'run-1', ['c'], { epoch: 2, generations: { b: 0 } });

    await expect(processor.process(c.job, c.token)).rejects.toThrow("The job of step 'c' of run 'run-1' carries malformed generations ({\"b\":0})");
  });
});
