import { checkOptionKeys, optionKeysOf } from '../config/check-option-keys';
import { describeValue } from '../config/step-config';
import { checkTracer } from '../pipeline/to-execute-options';
import { checkRunStore } from '../store/check-run-store';
import type { StepWorkerOptions } from './create-step-worker';
import type { QueueRunnerOptions } from './queue-runner';
import { isRedisClient } from './redis-connection-options';

const STEP_WORKER_OPTION_KEYS = optionKeysOf<StepWorkerOptions>({
  pipelines: true,
  store: true,
  connection: true,
  queueName: true,
  prefix: true,
  concurrency: true,
  lockDuration: true,
  stalledInterval: true,
  maxStalledCount: true,
  deps: true,
  name: true,
  tracer: true,
});

const QUEUE_RUNNER_OPTION_KEYS = optionKeysOf<QueueRunnerOptions>({ connection: true, queueName: true, prefix: true, reconcileIntervalMs: true });

/** Node's timers fire at once past this many ms: BullMQ's lock and stalled-check timers too. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks `createStepWorker`'s options before any connection opens, naming the bad one (and a
 * misspelt key): a `lockDuration` of 0 would make every lock fail at Redis and the callers' runs
 * wait for ever; an ioredis client that retries requests is refused by BullMQ's worker.
 * @throws TypeError
 */
export function checkStepWorkerOptions(options: StepWorkerOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`createStepWorker needs options { pipelines, store, connection }, got ${describeValue(options)}`);
  checkOptionKeys('createStepWorker options', options, STEP_WORKER_OPTION_KEYS, (message) => new TypeError(message));
  if (options.store === undefined) throw new TypeError('createStepWorker needs { store }: the store the callers record their runs in');
  checkRunStore('createStepWorker options.store', options.store);
  checkConnection('createStepWorker', options.connection);
  const retries = isRedisClient(options.connection) ? maxRetriesPerRequestOf(options.connection) : undefined;
  // What BullMQ's worker refuses (a Cluster's client keeps it in its redisOptions).
  if (retries) {
    throw new TypeError(
      `createStepWorker options.connection: a BullMQ worker needs an ioredis client made with { maxRetriesPerRequest: null } (this one has ${String(retries)}), or pass ioredis options instead`,
    );
  }
  checkNames('createStepWorker', options);
  checkInteger('createStepWorker options.concurrency', options.concurrency, 1);
  checkMs('createStepWorker options.lockDuration', options.lockDuration);
  checkMs('createStepWorker options.stalledInterval', options.stalledInterval);
  checkInteger('createStepWorker options.maxStalledCount', options.maxStalledCount, 0);
  if (options.deps !== undefined && typeof options.deps !== 'function') {
    throw new TypeError(`createStepWorker options.deps must be a function (run) => deps, got ${describeValue(options.deps)}`);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new TypeError(`createStepWorker options.name must be a non-empty string, got ${describeValue(options.name)}`);
  }
  if (options.tracer !== undefined) checkTracer('createStepWorker options.tracer', options.tracer);
}

/**
 * Checks `QueueRunner`'s options before any connection opens, naming the bad one.
 * @throws TypeError
 */
export function checkQueueRunnerOptions(options: QueueRunnerOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`QueueRunner needs options { connection }, got ${describeValue(options)}`);
  checkOptionKeys('QueueRunner options', options, QUEUE_RUNNER_OPTION_KEYS, (message) => new TypeError(message));
  checkConnection('QueueRunner', options.connection);
  checkNames('QueueRunner', options);
  checkMs('QueueRunner options.reconcileIntervalMs', options.reconcileIntervalMs);
}

function checkConnection(owner: string, connection: unknown): void {
  if (typeof connection !== 'object' || connection === null) {
    throw new TypeError(`${owner} needs { connection }: ioredis options or an ioredis client, got ${describeValue(connection)}`);
  }
}

/** BullMQ refuses a queue name with ':' (its keys are `prefix:name:…`); a prefix may have them. */
function checkNames(owner: string, options: { queueName?: unknown; prefix?: unknown }): void {
  const { queueName, prefix } = options;
  if (queueName !== undefined && (typeof queueName !== 'string' || queueName === '' || queueName.includes(':'))) {
    throw new TypeError(`${owner} options.queueName must be a non-empty string without ':', got ${describeValue(queueName)}`);
  }
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix === '')) {
    throw new TypeError(`${owner} options.prefix must be a non-empty string, got ${describeValue(prefix)}`);
  }
}

/** A duration in ms, when given: a positive number Node's timers take. */
function checkMs(what: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMER_MS) {
    throw new TypeError(`${what} must be a number of milliseconds > 0 (at most 2^31-1), got ${describeValue(value)}`);
  }
}

function checkInteger(what: string, value: unknown, least: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < least)) {
    throw new TypeError(`${what} must be an integer >= ${least}, got ${describeValue(value)}`);
  }
}

function maxRetriesPerRequestOf(client: object): unknown {
  const options = (client as { options?: { maxRetriesPerRequest?: unknown; redisOptions?: { maxRetriesPerRequest?: unknown } } }).options;
  return options?.redisOptions !== undefined ? options.redisOptions.maxRetriesPerRequest : options?.maxRetriesPerRequest;
}
