/**
 * createStepWorker's defaults and resources (API.md §13), with a worker in this process and the
 * local Redis under a unique prefix: the job id and BullMQ attempts, the lock and stalled-check
 * periods, the default workerId, the retry events that reach the caller, and what close() releases.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { MemoryRunStore, Pipeline, PipelineConfig, StepExecutionError, StepTimeoutError, step, type PipelineEvent, type StepContext } from 'fastroai';
import { createStepWorker, queueChannels, QueueRunner, stepJobId, type StepWorker } from 'fastroai/distributed';
import { createMockAgent } from 'fastroai/testing';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { WATCH_RETRY_MS, type RecordPusher } from '../../src/store/record-pusher';
import { deleteKeys } from './support/distributed-fixture';
import { waitUntil } from './support/processes';
import { transientError } from '../support/transient-error';

jest.setTimeout(60_000);

const CONNECTION = { host: '127.0.0.1', port: 6379 };
const QUEUE_NAME = 'fastroai-steps';

let prefix: string;
let admin: Redis;
let queue: Queue;
const closables: Array<{ close(): Promise<void> }> = [];
/** Lets a held step end (a worker's close waits for its running steps). */
let release: () => void = () => undefined;

beforeEach(() => {
  prefix = `fastroai-worker-${randomUUID()}`;
  admin = new Redis(CONNECTION);
  queue = new Queue(QUEUE_NAME, { connection: CONNECTION, prefix });
});

afterEach(async () => {
  release();
  for (const closable of closables.splice(0).reverse()) await closable.close().catch(() => undefined);
  await queue.close();
  await deleteKeys(CONNECTION.port, `${prefix}:*`);
  await admin.quit();
});

function startWorker(pipeline: Pipeline, store: MemoryRunStore): StepWorker {
  const worker = createStepWorker({ pipelines: [pipeline], store, connection: CONNECTION, prefix });
  closables.push(worker);
  return worker;
}

function startRunner(): QueueRunner {
  const runner = new QueueRunner({ connection: CONNECTION, prefix, reconcileIntervalMs: 500 });
  closables.push(runner);
  return runner;
}

it('runs each step as job runId-stepId-generation with BullMQ attempts 1, a 10 s lock, a 5 s stalled check, and names it <hostname>:<pid>', async () => {
  const held = new Promise<void>((resolve) => (release = resolve));
  let holding = false;
  const pipeline = new Pipeline({
    name: 'defaults',
    steps: {
      first: step(async () => {
        holding = true;
        await held;
        return 1;
      }),
      second: step((ctx: StepContext) => ctx.getDependency<number>('first') + 1),
    },
    dependencies: { second: ['first'] },
  });
  const store = new MemoryRunStore();
  const worker = startWorker(pipeline, store);
  await worker.waitUntilReady();
  const events: PipelineEvent[] = [];
  const running = pipeline.execute({}, undefined, { store, runner: startRunner(), runId: 'run-1', onEvent: (event) => events.push(event) });

  await waitUntil('first to run on the worker', () => holding, 30_000);
  const jobId = stepJobId('run-1', 'first', 1);
  expect(jobId).toBe('run-1-first-1');
  // While the step runs, its job holds a lock that lasts lockDuration (10 s) unless renewed,
  // and the worker's stalled check runs every stalledInterval (5 s).
  const lockMs = await admin.pttl(`${prefix}:${QUEUE_NAME}:${jobId}:lock`);
  expect(lockMs).toBeGreaterThan(5_000);
  expect(lockMs).toBeLessThanOrEqual(10_000);
  const stalledCheckMs = await admin.pttl(`${prefix}:${QUEUE_NAME}:stalled-check`);
  expect(stalledCheckMs).toBeGreaterThan(0);
  expect(stalledCheckMs).toBeLessThanOrEqual(5_000);
  release();
  const result = await running;

  expect(result.output).toBe(2);
  const job = await queue.getJob(jobId);
  expect(job?.opts.attempts).toBe(1);
  expect(job?.attemptsMade).toBe(1);
  expect(await queue.getJob(stepJobId('run-1', 'second', 1))).toBeDefined();

  const workerId = `${hostname()}:${process.pid}`;
  expect(worker.name).toBe(workerId);
  const named = events.filter((event) => event.type === 'step.started' || event.type === 'step.completed');
  expect(named).toHaveLength(4);
  for (const event of named) expect(event).toMatchObject({ workerId });
  expect(result.timings.first.workerId).toBe(workerId);
  expect((await store.getRun('run-1'))!.steps.map((record) => record.workerId)).toEqual([workerId, workerId]);
});

/** Two steps: flaky fails its first attempt (retried), call's first model call fails (retried). */
function retryingPipeline(): Pipeline {
  let attempts = 0;
  const agent = createMockAgent([transientError('503'), { output: 'ok' }]);
  return new Pipeline({
    name: 'retries',
    steps: {
      flaky: step({ retries: 1, retryDelay: 0 }, () => {
        if (++attempts === 1) throw new Error('first attempt fails');
        return 'fine';
      }),
      call: step({ retries: 1, retryDelay: 0 }, async (ctx: StepContext) => (await ctx.run(agent, 'hi')).output),
    },
    dependencies: { call: ['flaky'] },
  });
}

/** `type:stepId:attempt` of the start and retry events. */
function progressOf(events: PipelineEvent[]): string[] {
  return events
    .filter((event) => event.type === 'step.started' || event.type === 'step.retrying' || event.type === 'call.retrying')
    .map((event) => `${event.type}:${(event as { stepId: string }).stepId}:${(event as { attempt: number }).attempt}`);
}

it("reports the worker's step.started, step.retrying and call.retrying to the caller's events, as an in-process run does", async () => {
  const pipeline = retryingPipeline();
  const store = new MemoryRunStore();
  await startWorker(pipeline, store).waitUntilReady();
  const events: PipelineEvent[] = [];
  const result = await pipeline.execute({}, undefined, { store, runner: startRunner(), onEvent: (event) => events.push(event) });

  expect(result.stepOutputs).toEqual({ flaky: 'fine', call: 'ok' });
  expect(progressOf(events)).toEqual(['step.started:flaky:1', 'step.retrying:flaky:1', 'step.started:flaky:2', 'step.started:call:1', 'call.retrying:call:1']);
  const inProcess: PipelineEvent[] = [];
  await retryingPipeline().execute({}, undefined, { onEvent: (event) => inProcess.push(event) });
  expect(progressOf(events)).toEqual(progressOf(inProcess));
});

it("does not report again the attempts a worker that takes a step over repeats: the caller's events move each step on once, as in one process", async () => {
  const held = new Promise<void>((resolve) => (release = resolve));
  const pipeline = new Pipeline({
    name: 'taken-over',
    steps: {
      first: step(async () => {
        await held;
        return 1;
      }),
    },
  });
  const store = new MemoryRunStore();
  await startWorker(pipeline, store).waitUntilReady();
  const events: PipelineEvent[] = [];
  const running = pipeline.execute({}, undefined, { store, runner: startRunner(), runId: 'run-1', onEvent: (event) => events.push(event) });
  await waitUntil('first to start on the worker', () => progressOf(events).includes('step.started:first:1'), 30_000);

  // What a worker that took the job over would say: its own attempt 1, which fails and is retried as attempt 2.
  const jobId = stepJobId('run-1', 'first', 1);
  const progress = queueChannels(prefix, QUEUE_NAME).progress;
  await admin.publish(progress, JSON.stringify({ jobId, type: 'step.started', attempt: 1, workerId: 'w-takeover' }));
  await admin.publish(progress, JSON.stringify({ jobId, type: 'step.started', attempt: 'one', workerId: 'w-takeover' }));
  await admin.publish(progress, JSON.stringify({ jobId, type: 'step.retrying', attempt: 1, error: { name: 'Error', message: 'boom' }, delaySeconds: 0 }));
  await admin.publish(progress, JSON.stringify({ jobId, type: 'step.started', attempt: 2, workerId: 'w-takeover' }));
  await waitUntil('attempt 2 to be reported', () => progressOf(events).includes('step.started:first:2'), 30_000);
  release();
  await running;

  expect(progressOf(events)).toEqual(['step.started:first:1', 'step.retrying:first:1', 'step.started:first:2']);
});

it('releases its connections on close, as the runner does: no worker or subscriber left on Redis', async () => {
  const pipeline = new Pipeline({ name: 'closing', steps: { first: step(() => 1), then: step(() => 2) }, dependencies: { then: ['first'] } });
  const store = new MemoryRunStore();
  const worker = startWorker(pipeline, store);
  await worker.waitUntilReady();
  const runner = startRunner();
  await pipeline.execute({}, undefined, { store, runner });
  const channels = queueChannels(prefix, QUEUE_NAME);
  const subscribers = async () => (await admin.pubsub('NUMSUB', channels.progress, channels.ended, channels.cancel)) as unknown[];
  expect((await queue.getWorkers()).length).toBe(1);
  // The runner listens to the workers' channels, not to BullMQ's events stream; the worker to cancels and wake-ups.
  expect(await queue.getQueueEvents()).toEqual([]);
  expect(await subscribers()).toEqual([channels.progress, 1, channels.ended, 2, channels.cancel, 1]);

  await worker.close();
  await runner.close();
  expect(await queue.getWorkers()).toEqual([]);
  expect(await subscribers()).toEqual([channels.progress, 0, channels.ended, 0, channels.cancel, 0]);
});

it("listens to neither the workers' wake-ups nor its store's pushes when no step of its pipelines depends on another (it could read nothing ahead)", async () => {
  const pipeline = new Pipeline({ name: 'fan-out', steps: { one: step(() => 1), two: step(() => 2) }, outputStep: 'two' });
  const store = new MemoryRunStore() as MemoryRunStore & RecordPusher;
  let watches = 0;
  store.watchRecords = async () => {
    watches++;
    return { close: () => undefined };
  };
  const worker = startWorker(pipeline, store);
  await worker.waitUntilReady();
  const channels = queueChannels(prefix, QUEUE_NAME);

  expect(await admin.pubsub('NUMSUB', channels.ended, channels.cancel)).toEqual([channels.ended, 0, channels.cancel, 1]);
  expect(watches).toBe(0);
  await worker.close();
});

it("watches a store's pushes again a while after its first watch failed, and lets the watch go on close", async () => {
  const pipeline = new Pipeline({ name: 'watching', steps: { first: step(() => 1), then: step(() => 2) }, dependencies: { then: ['first'] } });
  const store = new MemoryRunStore() as MemoryRunStore & RecordPusher;
  let watches = 0;
  let closedWatches = 0;
  store.watchRecords = async () => {
    watches++;
    if (watches === 1) throw new Error('the store could not listen (first try)');
    return { close: () => void closedWatches++ };
  };
  const worker = startWorker(pipeline, store);
  await worker.waitUntilReady(); // ready without pushes: records are read ahead meanwhile
  expect(watches).toBe(1);

  await waitUntil('the second watch', () => watches === 2, WATCH_RETRY_MS + 5_000);
  await worker.close();
  expect(closedWatches).toBe(1);
  expect(watches).toBe(2);
});

it("hears the workers when its first run starts while its connection is still being readied (a subscription sent then would be lost)", async () => {
  let failures = 0;
  const pipeline = new Pipeline({
    name: 'early',
    steps: {
      flaky: step({ retries: 1, retryDelay: 0.01 }, () => {
        if (failures++ === 0) throw new Error('flaky');
        return 2;
      }),
    },
  });
  const store = new MemoryRunStore();
  await startWorker(pipeline, store).waitUntilReady();
  const runner = startRunner();
  const events: string[] = [];
  // The window: the runner's pub/sub connection is up and ioredis's ready check (INFO) not answered yet.
  const subscriber = (runner as unknown as { subscriber: Redis }).subscriber;
  const result = await new Promise<unknown>((resolve, reject) =>
    subscriber.once('connect', () => {
      pipeline.execute({}, undefined, { store, runner, onEvent: (event) => events.push(`${event.type}${'attempt' in event ? `:${event.attempt}` : ''}`) }).then(resolve, reject);
    }),
  );

  expect(result).toMatchObject({ output: 2 });
  expect(events.filter((type) => type.startsWith('step.'))).toEqual(['step.started:1', 'step.retrying:1', 'step.started:2', 'step.completed']);
  const channels = queueChannels(prefix, QUEUE_NAME);
  expect(await admin.pubsub('NUMSUB', channels.progress)).toEqual([channels.progress, 1]);
});

it("checks each ctx.run call against the run's total in the store: a call made after another job spent the run's budget is refused", async () => {
  const store = new MemoryRunStore();
  const runId = `budget-${randomUUID()}`;
  const small = createMockAgent([{ output: 'small', costMicrocents: 10 }]);
  const big = createMockAgent([{ output: 'big', costMicrocents: 200 }]);
  let aCalled: () => void = () => undefined;
  const aCalledOnce = new Promise<void>((resolve) => (aCalled = resolve));
  const pipeline = new Pipeline({
    name: 'budget',
    steps: {
      // a's job read the run's total (0) when it started; b spends 200 after a's first call.
      a: step(async (ctx: StepContext) => {
        await ctx.run(small, 'first');
        aCalled();
        await waitUntil('b charged the run', async () => (await store.getRun(runId))!.run.costMicrocents >= 210);
        return ctx.run(small, 'second').then(
          () => 'second call made',
          (error: Error) => `second call refused: ${error.name}`,
        );
      }),
      b: step(async (ctx: StepContext) => {
        await aCalledOnce;
        return (await ctx.run(big, 'b')).output;
      }),
      c: step((ctx: StepContext) => [ctx.getDependency('a'), ctx.getDependency('b')]),
    },
    dependencies: { c: ['a', 'b'] },
    config: new PipelineConfig({ runCostBudget: 100 }),
  });
  const worker = createStepWorker({ pipelines: [pipeline], store, connection: CONNECTION, prefix, concurrency: 2 });
  closables.push(worker);
  await worker.waitUntilReady();
  const result = await pipeline.execute({}, undefined, { store, runner: startRunner(), runId });
  expect(result.output).toEqual(['second call refused: CostBudgetExceededError', 'big']);
  expect((await store.getRun(runId))!.run.costMicrocents).toBe(210);
});

it("gives the caller a worker's error as its class, with its fields and the message an in-process run gives", async () => {
  const store = new MemoryRunStore();
  const pipeline = new Pipeline({
    name: 'timeouts',
    steps: { slow: step({ timeout: 0.05 }, (ctx: StepContext) => new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))) },
  });
  startWorker(pipeline, store);
  const remote = await pipeline.execute({}, undefined, { store, runner: startRunner() }).catch((error: unknown) => error as StepExecutionError);
  const local = await pipeline.execute({}).catch((error: unknown) => error as StepExecutionError);
  expect(StepTimeoutError.isInstance((remote as StepExecutionError).originalError)).toBe(true);
  expect((remote as StepExecutionError).originalError).toMatchObject({ stepId: 'slow', timeoutSeconds: 0.05, attempt: 1 });
  expect((remote as StepExecutionError).message).toBe((local as StepExecutionError).message);
});

describe('bad options are refused before any connection opens, naming the option', () => {
  const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1) } });
  const store = new MemoryRunStore();

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a lockDuration of 0 (every lock would fail at Redis and the callers wait for ever)', { lockDuration: 0 }, /options\.lockDuration must be a number of milliseconds > 0 .*got 0/],
    ['a negative lockDuration', { lockDuration: -5 }, /options\.lockDuration must be/],
    ['a NaN stalledInterval', { stalledInterval: NaN }, /options\.stalledInterval must be/],
    ['a misspelt key', { lockDurration: 1_000 }, /unknown option 'lockDurration' .*Did you mean 'lockDuration'\?/],
    ['deps that is not a function', { deps: { db: 1 } }, /options\.deps must be a function/],
    ['a fractional concurrency', { concurrency: 1.5 }, /options\.concurrency must be an integer >= 1/],
    ['a queue name with a colon', { queueName: 'a:b' }, /options\.queueName must be a non-empty string without ':'/],
    ['a store that is not a RunStore', { store: {} }, /options\.store must be a RunStore/],
  ])('createStepWorker: %s', (_, bad, message) => {
    const handles = process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
    expect(() => createStepWorker({ pipelines: [pipeline], store, connection: CONNECTION, prefix, ...bad } as never)).toThrow(message);
    expect(process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length).toBe(handles);
  });

  it('createStepWorker: an ioredis client that retries requests (BullMQ workers need maxRetriesPerRequest: null), without opening a connection', async () => {
    const client = new Redis({ ...CONNECTION, lazyConnect: true });
    const handles = process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length;
    expect(() => createStepWorker({ pipelines: [pipeline], store, connection: client, prefix })).toThrow(/needs an ioredis client made with \{ maxRetriesPerRequest: null \} \(this one has 20\)/);
    expect(process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length).toBe(handles);
    client.disconnect();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a misspelt key', { queuename: 'q' }, /QueueRunner options: unknown option 'queuename' .*Did you mean 'queueName'\?/],
    ['a reconcile interval of 0', { reconcileIntervalMs: 0 }, /QueueRunner options\.reconcileIntervalMs must be a number of milliseconds > 0/],
    ['no connection', { connection: undefined }, /QueueRunner needs \{ connection \}/],
  ])('QueueRunner: %s', (_, bad, message) => {
    expect(() => new QueueRunner({ connection: CONNECTION, prefix, ...bad } as never)).toThrow(message);
  });

  it('a run with a QueueRunner and no store is refused before it starts (no event, whatever onError)', async () => {
    const runner = startRunner();
    const events: string[] = [];
    const continuing = new Pipeline({ name: 'no-store', steps: { a: step(() => 1) }, config: new PipelineConfig({ onError: 'continue' }) });
    const error = await continuing.execute({}, undefined, { runner, onEvent: (event) => events.push(event.type) }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'PipelineValidationError', message: expect.stringMatching(/^QueueRunner needs a store: pass \{ store \} to execute\(\)/) });
    expect(events).toEqual([]);
  });
});
