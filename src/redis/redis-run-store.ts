import { optionKeysOf } from '../config/check-option-keys';
import { describeValue } from '../config/step-config';
import { checkStoreOptions } from '../store/check-store-options';
import { createHash, randomUUID } from 'node:crypto';
import { CHARGE_KEPT_MS } from '../store/charge-kept-ms';
import type { Redis, RedisOptions } from 'ioredis';
import type { StepRecordKey } from '../store/step-records-reader';
import type { PushedRecordOutcome, PushedRecordsListener, PushedRunFilter, RecordWatch } from '../store/record-pusher';
import { RedisPushSubscriber } from './redis-push-subscriber';
import { StoreUnavailableError } from '../errors/store-unavailable-error';
import { FastroAIError } from '../errors/fastroai-error';
import { RunExistsError } from '../errors/run-exists-error';
import { RunLeaseLostError } from '../errors/run-lease-lost-error';
import { RunLockedError } from '../errors/run-locked-error';
import { RunNotFoundError } from '../errors/run-not-found-error';
import { requireOptionalPeer } from '../store/require-optional-peer';
import { retryTransient, type TransientRetryPolicy } from '../store/retry-transient';
import { decodeRunListCursor, encodeRunListCursor, checkRunListQuery } from '../store/run-list-cursor';
import type { CancelRequestOutcome, ClaimedRun, RecordOutcome, RunListPage, RunListQuery, RunRecord, RunStatus, RunStore, StepRecord } from '../store/run-store';
import { CLEARABLE_RUN_FIELDS, settableRunFieldsOf } from '../store/settable-run-fields';
import { runHashFieldsOf, runIndexKeyOf, runIndexMemberOf, runOfHash } from './redis-run-hash';
import {
  ADD_RUN_COST_SCRIPT,
  CLAIM_RUN_SCRIPT,
  CREATE_RUN_SCRIPT,
  GET_RUN_SCRIPT,
  GET_STEP_RECORD_SCRIPT,
  GET_STEP_RECORDS_SCRIPT,
  LIST_RUNS_SCRIPT,
  READ_RUN_COST_SCRIPT,
  RECORD_STEPS_SCRIPT,
  RENEW_LEASE_SCRIPT,
  REQUEST_CANCEL_SCRIPT,
  SET_RUN_STATUS_SCRIPT,
} from './redis-scripts';

/** Options of {@link RedisRunStore}. */
export interface RedisRunStoreOptions {
  /**
   * An ioredis client to use (the store never closes it), or the options of one the store
   * opens itself (and closes in `close()`). A client you give should have a number for
   * `maxRetriesPerRequest` (not `null`, as BullMQ's need): with `null`, a call waits for Redis
   * for as long as it is down instead of failing with `StoreUnavailableError`. A `redis://` (or
   * `rediss://`) URL opens a client of the store's own too.
   */
  connection: RedisOptions | Redis | string;
  /**
   * The prefix of every key the store writes. On a Redis Cluster, put a hash tag in it
   * (`{fastroai}:`) so that a run's keys and the listing indexes share one slot.
   * @default 'fastroai:'
   */
  prefix?: string;
  /**
   * The clock of leases and `updatedAt`, in epoch ms.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Check once, on first use, whether Redis has AOF on (`CONFIG GET appendonly`), and
   * `console.warn` when it has not: without AOF, a restart of Redis loses the runs.
   * @default true
   */
  warnIfNotDurable?: boolean;
  /**
   * Retries of a call that failed on the connection, before `StoreUnavailableError`.
   * @default 3
   */
  retries?: number;
}

const REDIS_OPTION_KEYS = optionKeysOf<RedisRunStoreOptions>({ connection: true, prefix: true, now: true, warnIfNotDurable: true, retries: true });

/** What the store sets on a connection it opens, under the caller's options: fail a command while Redis is down, don't queue it forever. */
const OWN_CONNECTION_DEFAULTS: RedisOptions = {
  maxRetriesPerRequest: 1,
  retryStrategy: (times: number) => Math.min(times * 100, 1000),
  commandTimeout: 10_000,
};

/** Records read by one `getStepRecords` script at most (Lua's `unpack` takes a few thousand values). */
const STEP_RECORDS_PER_SCRIPT = 1_000;

/** Server replies that say "try again later" rather than "this command is wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN|READONLY)\b/;

/** A failure on the way to Redis, or a reply that says "try again later". Not `instanceof Error`: socket errors may come from another realm. */
function isTransientRedisError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, message } = error as { name?: unknown; message?: unknown };
  return name !== 'ReplyError' || TRANSIENT_REPLY.test(String(message));
}

const shaOfScript = new Map<string, string>();

function shaOf(source: string): string {
  let sha = shaOfScript.get(source);
  if (sha === undefined) {
    sha = createHash('sha1').update(source).digest('hex');
    shaOfScript.set(source, sha);
  }
  return sha;
}

function isRedisClient(connection: RedisOptions | Redis): connection is Redis {
  return typeof (connection as { evalsha?: unknown }).evalsha === 'function';
}

/**
 * A run store on Redis (ioredis 5), for runs shared by processes and machines (API.md §12).
 *
 * **Durable only with AOF.** Redis keeps data in memory; with `appendonly no` (the default of
 * many installs) a restart or crash of Redis loses every run, and with `appendfsync everysec`
 * the last second of records. For records that survive, run Redis with `appendonly yes` (and
 * `appendfsync always` to lose nothing, at several times the cost per write). The store checks
 * `appendonly` once and warns when it is off (`warnIfNotDurable: false` to silence it).
 *
 * Each mutating method is one Lua script (EVALSHA), atomic on the server: `recordSteps` writes a
 * whole batch in one call, checking the fencing epoch once and first-writer-wins per record;
 * it also indexes each record by its key, so `getStepRecord` reads one record in one round trip,
 * and publishes the records it wrote first on a channel of its keyspace (a distributed run's
 * caller settles their steps with them, without reading them: see `watchRecords`).
 * `listRuns` reads sorted-set indexes (all runs, per pipeline, per status, per both), so a page
 * costs the same with 10 or 100,000 runs. A call that fails on the connection is retried
 * (`retries`), then rejects with `StoreUnavailableError` naming `redis:<prefix>` and the run.
 *
 * @example
 * import { RedisRunStore } from 'fastroai/redis';
 * const store = new RedisRunStore({ connection: { host: '127.0.0.1', port: 6379 }, prefix: 'myapp:' });
 * const pipeline = new Pipeline({ name: 'booking', steps, store });
 */
export class RedisRunStore implements RunStore {
  readonly name: string;
  private readonly redis: Redis;
  private readonly ownsConnection: boolean;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly retryPolicy: TransientRetryPolicy;
  private durabilityCheck: Promise<void> | undefined;
  /** Where pushes are published: see watchRecords. */
  private readonly pushChannel: string;
  private pushSubscriber: RedisPushSubscriber | undefined;
  private closed = false;

  /** @throws FastroAIError when given connection options and ioredis is not installed */
  constructor(options: RedisRunStoreOptions) {
    checkStoreOptions('RedisRunStore', options, REDIS_OPTION_KEYS);
    if (options.connection === undefined || options.connection === null) {
      throw new TypeError('RedisRunStore needs { connection }: ioredis options, a client, or a redis:// URL');
    }
    if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix === '')) {
      throw new TypeError(`RedisRunStore options.prefix must be a non-empty string, got ${describeValue(options.prefix)}`);
    }
    this.prefix = options.prefix ?? 'fastroai:';
    this.name = `redis:${this.prefix}`;
    this.now = options.now ?? Date.now;
    const retries = options.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0) throw new FastroAIError(`Expected RedisRunStore retries to be an integer from 0 up, got ${String(retries)}`);
    this.retryPolicy = {
      storeName: this.name,
      retries,
      delayMs: (retry) => 100 * retry,
      isTransient: isTransientRedisError,
    };
    const connection = options.connection;
    if (typeof connection === 'object' && connection !== null && isRedisClient(connection)) {
      this.redis = connection;
      this.ownsConnection = false;
    } else {
      if (typeof connection === 'string' ? !/^rediss?:\/\//.test(connection) : typeof connection !== 'object' || connection === null) {
        throw new FastroAIError(`RedisRunStore needs { connection }: ioredis options, an ioredis client or a redis:// URL, got ${typeof connection === 'string' ? `'${connection}'` : String(connection)}`);
      }
      const { Redis: RedisClient } = requireOptionalPeer<typeof import('ioredis')>('ioredis', '5', 'RedisRunStore');
      this.redis = typeof connection === 'string' ? new RedisClient(connection, OWN_CONNECTION_DEFAULTS) : new RedisClient({ ...OWN_CONNECTION_DEFAULTS, ...connection });
      // Connection errors reach the caller as rejected calls; without a listener ioredis would log each one.
      this.redis.on('error', () => {});
      this.ownsConnection = true;
    }
    const { keyPrefix, db } = this.redis.options;
    this.pushChannel = `${keyPrefix ?? ''}${this.prefix}records@${db ?? 0}`;
    if (options.warnIfNotDurable === false) this.durabilityCheck = Promise.resolve();
  }

  async createRun(run: RunRecord): Promise<void> {
    if (!Number.isSafeInteger(run.createdAt) || run.createdAt < 0) {
      throw new FastroAIError(`Expected run '${run.runId}' createdAt to be epoch ms (an integer from 0 up), got ${String(run.createdAt)}`);
    }
    const member = runIndexMemberOf(run.createdAt, run.runId);
    // A retry after a lost reply finds the run it wrote itself: that is a success, not RunExistsError.
    const created = await this.script(
      run.runId,
      CREATE_RUN_SCRIPT,
      [this.runKey(run.runId)],
      [this.prefix, member, run.pipeline, run.status, ...runHashFieldsOf(run)],
      async (answer) => (answer === 0 && (await this.holdsCreatedRun(run)) ? 1 : answer),
    );
    if (created === 0) throw new RunExistsError(run.runId, this.name);
  }

  async claimRun(runId: string, owner: string, leaseMs: number): Promise<ClaimedRun> {
    const now = this.now();
    const answer = (await this.script(runId, CLAIM_RUN_SCRIPT, [this.runKey(runId), this.stepsKey(runId)], [owner, String(now), String(now + leaseMs)])) as
      | ['missing']
      | ['locked', string, string]
      | ['claimed', string[], string[]];
    if (answer[0] === 'missing') throw new RunNotFoundError(runId, this.name);
    if (answer[0] === 'locked') throw new RunLockedError(runId, answer[1], Number(answer[2]));
    const run = runOfHash(answer[1])!;
    return { run, steps: answer[2].map((json) => JSON.parse(json) as StepRecord), epoch: run.epoch };
  }

  async renewLease(runId: string, owner: string, epoch: number, leaseMs: number): Promise<boolean> {
    const renewed = await this.script(runId, RENEW_LEASE_SCRIPT, [this.runKey(runId)], [owner, String(epoch), String(this.now() + leaseMs)]);
    return renewed === 1;
  }

  async requestCancel(runId: string, reason: string): Promise<CancelRequestOutcome> {
    return (await this.script(runId, REQUEST_CANCEL_SCRIPT, [this.runKey(runId)], [String(reason)])) as CancelRequestOutcome;
  }

  async cancelRequested(runId: string, epoch: number): Promise<string | undefined> {
    const [cancelEpoch, reason] = (await retryTransient(this.retryPolicy, runId, () => this.redis.call('HMGET', this.runKey(runId), 'cancelEpoch', 'cancelReason'))) as (string | null)[];
    return cancelEpoch === String(epoch) && reason !== null ? reason : undefined;
  }

  async recordSteps(runId: string, epoch: number, records: StepRecord[]): Promise<RecordOutcome[]> {
    return (await this.recordStepsPushed(runId, epoch, records)).map((outcome) => (outcome === 'pushed' ? 'recorded' : outcome));
  }

  /** {@link recordSteps}, telling the records it pushed as it wrote them (RecordPusher). */
  async recordStepsPushed(runId: string, epoch: number, records: StepRecord[]): Promise<PushedRecordOutcome[]> {
    const args = [String(epoch), this.pushChannel, JSON.stringify(runId)];
    for (const record of records) args.push(`${record.generation}:${record.stepId}`, JSON.stringify(record));
    const answer = (await this.script(runId, RECORD_STEPS_SCRIPT, [this.runKey(runId), this.stepsKey(runId), this.stepIndexKey(runId)], args)) as number | number[];
    if (answer === -1) throw new RunNotFoundError(runId, this.name);
    if (answer === 0) return records.map(() => 'stale-epoch');
    return (answer as number[]).map((written) => (written === 2 ? 'pushed' : written === 1 ? 'recorded' : 'duplicate'));
  }

  async setRunStatus(runId: string, epoch: number, status: RunStatus, fields: Partial<RunRecord> = {}): Promise<void> {
    const settable = settableRunFieldsOf(fields);
    const cleared = Object.keys(settable).filter((key) => CLEARABLE_RUN_FIELDS.has(key) && (settable as Record<string, unknown>)[key] === undefined);
    const args = [this.prefix, String(epoch), status, String(this.now()), String(cleared.length), ...cleared, ...runHashFieldsOf(settable)];
    const answer = await this.script(runId, SET_RUN_STATUS_SCRIPT, [this.runKey(runId)], args);
    if (answer === -1) throw new RunNotFoundError(runId, this.name);
    if (answer === 0) throw new RunLeaseLostError(runId, epoch);
  }

  async addRunCost(runId: string, microcents: number): Promise<number> {
    if (!Number.isSafeInteger(microcents)) throw new FastroAIError(`Expected addRunCost microcents to be an integer, got ${String(microcents)}`);
    // One key per charge, kept 10 minutes: the same charge tried again (a lost answer) is added
    // once. Adding 0 (a worker reading the total) changes nothing: a read, no key.
    const total =
      microcents === 0
        ? await this.script(runId, READ_RUN_COST_SCRIPT, [this.runKey(runId)], [])
        : await this.script(runId, ADD_RUN_COST_SCRIPT, [this.runKey(runId), `${this.prefix}charge:${runId}:${randomUUID()}`], [String(microcents), String(CHARGE_KEPT_MS)]);
    if (total === null) throw new RunNotFoundError(runId, this.name);
    return Number(total);
  }

  async getRun(runId: string): Promise<{ run: RunRecord; steps: StepRecord[] } | undefined> {
    const [hash, steps] = (await this.script(runId, GET_RUN_SCRIPT, [this.runKey(runId), this.stepsKey(runId)], [])) as [string[], string[]];
    const run = runOfHash(hash);
    if (run === undefined) return undefined;
    return { run, steps: steps.map((json) => JSON.parse(json) as StepRecord) };
  }

  /** One step record in one round trip (a hash lookup, then the list entry it points to), whatever the run's size. */
  async getStepRecord(runId: string, stepId: string, generation: number): Promise<StepRecord | undefined> {
    const json = (await this.script(runId, GET_STEP_RECORD_SCRIPT, [this.stepsKey(runId), this.stepIndexKey(runId)], [`${generation}:${stepId}`])) as string | null;
    return json === null ? undefined : (JSON.parse(json) as StepRecord);
  }

  /** @internal Many records of one run (`StepRecordsReader`): one script, one round trip (chunks of {@link STEP_RECORDS_PER_SCRIPT}). */
  async getStepRecords(runId: string, keys: readonly StepRecordKey[]): Promise<Array<StepRecord | undefined>> {
    const records: Array<StepRecord | undefined> = [];
    for (let first = 0; first < keys.length; first += STEP_RECORDS_PER_SCRIPT) {
      const fields = keys.slice(first, first + STEP_RECORDS_PER_SCRIPT).map((key) => `${key.generation}:${key.stepId}`);
      const answer = (await this.script(runId, GET_STEP_RECORDS_SCRIPT, [this.stepsKey(runId), this.stepIndexKey(runId)], fields)) as Array<string | null>;
      for (const json of answer) records.push(typeof json === 'string' ? (JSON.parse(json) as StepRecord) : undefined);
    }
    return records;
  }

  async listRuns(query: RunListQuery = {}): Promise<RunListPage> {
    const limit = checkRunListQuery(query);
    let upperBound = '+';
    if (query.cursor !== undefined) {
      const after = decodeRunListCursor(query.cursor);
      upperBound = `(${runIndexMemberOf(after.createdAt, after.runId)}`;
    }
    const indexKey = runIndexKeyOf(this.prefix, query.pipeline, query.status);
    const hashes = (await this.script(undefined, LIST_RUNS_SCRIPT, [], [this.prefix, indexKey, upperBound, String(limit + 1)])) as string[][];
    const found = hashes.map(runOfHash).filter((run): run is RunRecord => run !== undefined);
    const runs = found.slice(0, limit);
    const last = runs[runs.length - 1];
    return hashes.length > limit && last !== undefined ? { runs, cursor: encodeRunListCursor(last) } : { runs };
  }

  /**
   * @internal Watches the records this store's writes put there first, in any process
   * (`RecordPusher`): `recordSteps` publishes them in the script that writes them, on a channel
   * of the store's keyspace (its prefix, the client's `keyPrefix` and database: Redis pub/sub
   * ignores databases). A connection of the store's own (a duplicate of its client) listens
   * while any watch is open.
   */
  watchRecords(listener: PushedRecordsListener, wants?: PushedRunFilter): Promise<RecordWatch> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(this.name, undefined, new Error('the store is closed')));
    this.pushSubscriber ??= new RedisPushSubscriber(this.redis, this.pushChannel, this.name);
    return this.pushSubscriber.watch(listener, wants);
  }

  /** Quits the connection if the store opened it (a client you gave is left open), and the one of its watches. */
  async close(): Promise<void> {
    this.closed = true;
    this.pushSubscriber?.close();
    this.pushSubscriber = undefined;
    await this.durabilityCheck;
    if (!this.ownsConnection || this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /** Runs one script (EVALSHA, then EVAL when Redis does not have it cached), with bounded retries. */
  private async script(
    runId: string | undefined,
    source: string,
    keys: string[],
    args: string[],
    onRetryAnswer?: (answer: unknown) => Promise<unknown>,
  ): Promise<unknown> {
    this.durabilityCheck ??= this.warnIfNotDurable();
    return retryTransient(this.retryPolicy, runId, async (attemptNumber) => {
      let answer: unknown;
      try {
        answer = await this.redis.call('EVALSHA', shaOf(source), keys.length, ...keys, ...args);
      } catch (error) {
        if (!String((error as { message?: unknown } | null)?.message).startsWith('NOSCRIPT')) throw error;
        answer = await this.redis.call('EVAL', source, keys.length, ...keys, ...args);
      }
      return attemptNumber > 1 && onRetryAnswer !== undefined ? onRetryAnswer(answer) : answer;
    });
  }

  /** True when the stored run is `run` as this store wrote it (owner, birth, graph): a retry found its own earlier write. */
  private async holdsCreatedRun(run: RunRecord): Promise<boolean> {
    const [owner, createdAt, fingerprint] = (await this.redis.call('HMGET', this.runKey(run.runId), 'owner', 'createdAt', 'fingerprint')) as (string | null)[];
    return owner === run.owner && createdAt === String(run.createdAt) && fingerprint === run.fingerprint;
  }

  private async warnIfNotDurable(): Promise<void> {
    try {
      const answer = (await this.redis.call('CONFIG', 'GET', 'appendonly')) as string[];
      if (answer[1] === 'no') {
        console.warn(
          `fastroai: RedisRunStore ${this.name} writes to a Redis with appendonly off: a restart of Redis loses every run. ` +
            `Turn AOF on (appendonly yes), or pass warnIfNotDurable: false.`,
        );
      }
    } catch {
      // CONFIG is often disabled on managed Redis: then nothing can be said.
    }
  }

  private runKey(runId: string): string {
    return `${this.prefix}run:${runId}`;
  }

  private stepsKey(runId: string): string {
    return `${this.prefix}steps:${runId}`;
  }

  private stepIndexKey(runId: string): string {
    return `${this.prefix}stepindex:${runId}`;
  }
}
