import { StoreUnavailableError } from 'fastroai';
import { RedisRunStore, type RedisRunStoreOptions } from 'fastroai/redis';
import { Redis } from 'ioredis';
import { createPrivateRedisServer, type PrivateRedisServer } from '../support/private-redis-server';
import { describeRunStoreContract, makeRunRecord, makeStepRecord } from '../store/run-store-contract';
import { PUSH_MAX_BYTES, PUSHED_RECORD_MAX_BYTES } from '../../src/redis/redis-scripts';

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 5_000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const LOCAL_REDIS = { host: '127.0.0.1', port: 6379 };
let admin: Redis;
let prefixCount = 0;

function uniquePrefix(): string {
  return `fastroai-test:${process.pid}:${Date.now()}:${++prefixCount}:`;
}

async function deleteKeys(prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...found);
    cursor = next;
  } while (cursor !== '0');
  return keys.sort();
}

beforeAll(() => {
  admin = new Redis(LOCAL_REDIS);
});

afterAll(async () => {
  await admin.quit();
});

describeRunStoreContract('RedisRunStore', async ({ now }) => {
  const prefix = uniquePrefix();
  return {
    store: new RedisRunStore({ connection: LOCAL_REDIS, prefix, now, warnIfNotDurable: false }),
    cleanup: () => deleteKeys(prefix),
  };
});

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('RedisRunStore', () => {
  let prefix: string;
  let opened: RedisRunStore[];

  /** A store closed after the test, even when the test fails. */
  function openStore(options: Partial<RedisRunStoreOptions> = {}): RedisRunStore {
    const store = new RedisRunStore({ connection: LOCAL_REDIS, prefix, warnIfNotDurable: false, ...options });
    opened.push(store);
    return store;
  }

  beforeEach(() => {
    prefix = uniquePrefix();
    opened = [];
  });

  afterEach(async () => {
    await Promise.all(opened.map((store) => store.close()));
    await deleteKeys(prefix);
  });

  it('refuses options without a connection, a misspelt option (it would write under the default prefix) and an empty prefix', () => {
    expect(() => new RedisRunStore(undefined as never)).toThrow(/^RedisRunStore expects options \{ connection, prefix, /);
    expect(() => new RedisRunStore({} as never)).toThrow(new TypeError('RedisRunStore needs { connection }: ioredis options, a client, or a redis:// URL'));
    expect(() => new RedisRunStore({ connection: LOCAL_REDIS, prefx: prefix } as never)).toThrow(/^RedisRunStore options: unknown option 'prefx' .*Did you mean 'prefix'\?$/);
    expect(() => new RedisRunStore({ connection: LOCAL_REDIS, prefix: '' })).toThrow(/RedisRunStore options\.prefix must be a non-empty string/);
  });

  it('keeps its keys under the prefix, a run id with colons included', async () => {
    const store = openStore();
    await store.createRun(makeRunRecord('a:steps'));
    await store.createRun(makeRunRecord('a'));
    await store.recordSteps('a', 1, [makeStepRecord('x')]);
    expect((await store.getRun('a:steps'))?.steps).toEqual([]);
    expect((await store.getRun('a'))?.steps).toEqual([makeStepRecord('x')]);
    expect(await keysUnder(prefix)).toEqual(
      [
        'run:a',
        'run:a:steps',
        'runs',
        'runs:pipeline:booking',
        'runs:ps:running:booking',
        'runs:status:running',
        'stepindex:a',
        'steps:a',
      ].map((key) => prefix + key),
    );
    await store.close();
  });

  it('reads one step record in one call, right after duplicates and across batches and generations', async () => {
    const client = new Redis(LOCAL_REDIS);
    const realCall = client.call.bind(client) as (...args: unknown[]) => Promise<unknown>;
    let calls = 0;
    (client as unknown as { call: (...args: unknown[]) => Promise<unknown> }).call = (...args: unknown[]) => {
      calls++;
      return realCall(...args);
    };
    try {
      const store = openStore({ connection: client });
      await store.createRun(makeRunRecord('r1'));
      const a = makeStepRecord('a', 1, { attempts: 1 });
      const b = makeStepRecord('b', 1, { attempts: 2 });
      // The second 'a' is a duplicate: it takes no place in the list, so 'b' and later records keep their index.
      expect(await store.recordSteps('r1', 1, [a, makeStepRecord('a', 1, { attempts: 9 }), b])).toEqual(['recorded', 'duplicate', 'recorded']);
      const a2 = makeStepRecord('a', 2, { attempts: 3 });
      const c = makeStepRecord('c', 1, { attempts: 4 });
      expect(await store.recordSteps('r1', 1, [makeStepRecord('b', 1, { attempts: 8 }), a2, c])).toEqual(['duplicate', 'recorded', 'recorded']);
      await store.getStepRecord('r1', 'x', 1); // the first use may load the script (EVALSHA, then EVAL)
      calls = 0;
      expect(await store.getStepRecord('r1', 'a', 1)).toEqual(a);
      expect(calls).toBe(1);
      expect(await store.getStepRecord('r1', 'b', 1)).toEqual(b);
      expect(await store.getStepRecord('r1', 'a', 2)).toEqual(a2);
      expect(await store.getStepRecord('r1', 'c', 1)).toEqual(c);
      expect(await store.getStepRecord('r1', 'c', 2)).toBeUndefined();
      expect((await store.getRun('r1'))?.steps).toEqual([a, b, a2, c]);
    } finally {
      await client.quit();
    }
  });

  it('moves a run between the status indexes, so a filtered list sees its current status only', async () => {
    const store = openStore();
    await store.createRun(makeRunRecord('r1'));
    await store.setRunStatus('r1', 1, 'failed', { pipeline: 'renamed' });
    expect((await store.listRuns({ status: 'running' })).runs).toEqual([]);
    expect((await store.listRuns({ pipeline: 'booking' })).runs).toEqual([]);
    expect((await store.listRuns({ status: 'failed', pipeline: 'renamed' })).runs.map((run) => run.runId)).toEqual(['r1']);
    expect(await admin.zcard(`${prefix}runs:ps:running:booking`)).toBe(0);
    await store.close();
  });

  it('pages 10,000 runs filtered by status, newest first, every run once', async () => {
    const store = openStore();
    const statuses = ['running', 'completed', 'failed', 'stopped'] as const;
    for (let start = 0; start < 10_000; start += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, offset) => {
          const index = start + offset;
          return store.createRun(makeRunRecord(`run-${index}`, { createdAt: 1_700_000_000_000 + Math.floor(index / 2), status: statuses[index % 4] }));
        }),
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listRuns({ status: 'failed', limit: 100, cursor });
      seen.push(...page.runs.map((run) => run.runId));
      cursor = page.cursor;
    } while (cursor !== undefined);
    const expected = Array.from({ length: 10_000 }, (_, index) => index)
      .filter((index) => index % 4 === 2)
      .reverse()
      .map((index) => `run-${index}`);
    expect(seen).toEqual(expected);
    await store.close();
  }, 60_000);

  it('pushes the records a batch writes first to its watchers, in any process, as the store holds them: not duplicates, nor a stale epoch, nor those too large', async () => {
    const writer = openStore();
    const watcher = openStore();
    await writer.createRun(makeRunRecord('r:1', { epoch: 1 }));
    const pushes: Array<{ runId: string; records: readonly unknown[] }> = [];
    const watch = await watcher.watchRecords((runId, records) => void pushes.push({ runId, records }));
    const big = makeStepRecord('big', 1, { output: JSON.stringify('x'.repeat(PUSHED_RECORD_MAX_BYTES)) });

    expect(await writer.recordSteps('r:1', 1, [makeStepRecord('a'), big, makeStepRecord('b')])).toEqual(['recorded', 'recorded', 'recorded']);
    expect(await writer.recordSteps('r:1', 1, [makeStepRecord('a', 1, { workerId: 'late' }), makeStepRecord('c')])).toEqual(['duplicate', 'recorded']);
    expect(await writer.recordSteps('r:1', 0, [makeStepRecord('d')])).toEqual(['stale-epoch']);
    expect(await writer.recordSteps('r:1', 1, [makeStepRecord('a')])).toEqual(['duplicate']);
    await writer.addRunCost('r:1', 0); // a round trip after the last write: its push, had there been one, came before the answer
    await until(() => pushes.length >= 2);

    const stored = (await writer.getRun('r:1'))!.steps;
    const asStored = (stepId: string) => JSON.parse(JSON.stringify(stored.find((record) => record.stepId === stepId)));
    expect(pushes).toEqual([
      { runId: 'r:1', records: [asStored('a'), asStored('b')] },
      { runId: 'r:1', records: [asStored('c')] },
    ]);

    watch.close();
    await writer.recordSteps('r:1', 1, [makeStepRecord('e')]);
    await writer.addRunCost('r:1', 0);
    expect(pushes).toHaveLength(2);
  });

  it('tells the records it pushed as it wrote them (recordStepsPushed): those too large to push are only recorded', async () => {
    const store = openStore();
    await store.createRun(makeRunRecord('r:2', { epoch: 1 }));
    const big = makeStepRecord('big', 1, { output: JSON.stringify('x'.repeat(PUSHED_RECORD_MAX_BYTES)) });

    expect(await store.recordStepsPushed('r:2', 1, [makeStepRecord('a'), big, makeStepRecord('a', 1, { workerId: 'late' })])).toEqual(['pushed', 'recorded', 'duplicate']);
    expect(await store.recordStepsPushed('r:2', 0, [makeStepRecord('b')])).toEqual(['stale-epoch']);
  });

  it("pushes only to the watchers of its own keyspace: another database or keyPrefix with the same prefix hears none of it", async () => {
    const pushes: string[] = [];
    const onDb1 = openStore({ connection: { ...LOCAL_REDIS, db: 1 } });
    const withKeyPrefix = openStore({ connection: { ...LOCAL_REDIS, keyPrefix: 'tenant:' } });
    const writer = openStore();
    const watches = await Promise.all([
      onDb1.watchRecords((runId) => void pushes.push(`db1 ${runId}`)),
      withKeyPrefix.watchRecords((runId) => void pushes.push(`tenant ${runId}`)),
      writer.watchRecords((runId) => void pushes.push(`db0 ${runId}`)),
    ]);
    await writer.createRun(makeRunRecord('r1', { epoch: 1 }));
    await writer.recordSteps('r1', 1, [makeStepRecord('a')]);
    await until(() => pushes.length >= 1);
    await writer.getRun('r1');
    expect(pushes).toEqual(['db0 r1']);
    for (const watch of watches) watch.close();
    await deleteKeys(`tenant:${prefix}`);
    const db1 = new Redis({ ...LOCAL_REDIS, db: 1 });
    await db1.del(...(await db1.keys(`${prefix}*`)), 'none');
    await db1.quit();
  });

  it('listens on a connection of its own only while a watch is open', async () => {
    const name = `push-test-${process.pid}-${Date.now()}`;
    const store = openStore({ connection: { ...LOCAL_REDIS, connectionName: name } });
    // The store's connections, by name (its duplicate takes its client's name); `sub=1` marks a subscriber.
    const subscribers = async () => ((await admin.client('LIST')) as string).split('\n').filter((line) => line.includes(`name=${name} `) && / sub=1 /.test(line)).length;
    await store.getRun('none');
    expect(await subscribers()).toBe(0);
    const first = await store.watchRecords(() => undefined);
    const second = await store.watchRecords(() => undefined);
    expect(await subscribers()).toBe(1);
    first.close();
    expect(await subscribers()).toBe(1);
    second.close();
    let after = await subscribers();
    for (let tries = 0; tries < 50 && after > 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await subscribers();
    }
    expect(after).toBe(0);
  });

  it(`pushes at most ${PUSH_MAX_BYTES} bytes of records at once: the rest of the batch is read`, async () => {
    const writer = openStore();
    await writer.createRun(makeRunRecord('r1', { epoch: 1 }));
    const pushes: unknown[][] = [];
    await openStore().watchRecords((_, records) => void pushes.push([...records]));
    const records = Array.from({ length: 10 }, (_, i) => makeStepRecord(`s${i}`, 1, { output: JSON.stringify('y'.repeat(PUSHED_RECORD_MAX_BYTES / 2)) }));
    await writer.recordSteps('r1', 1, records);
    await writer.addRunCost('r1', 0);
    await until(() => pushes.length >= 1);
    const size = JSON.stringify(records[0]).length;
    expect(pushes.map((push) => push.map((record) => (record as { stepId: string }).stepId))).toEqual([records.slice(0, Math.floor(PUSH_MAX_BYTES / size)).map((record) => record.stepId)]);
  });

  it('leaves a client it was given open on close, and quits one it opened', async () => {
    const client = new Redis(LOCAL_REDIS);
    const given = openStore({ connection: client });
    await given.createRun(makeRunRecord('r1'));
    await given.close();
    expect(await client.ping()).toBe('PONG');
    await client.quit();

    const own = openStore({ retries: 0 });
    await own.getRun('r1');
    await own.close();
    expect(StoreUnavailableError.isInstance(await rejectionOf(own.getRun('r1')))).toBe(true);
  });

  it('opens a client of its own from a redis:// URL (the database in its path), and refuses a connection it cannot use', async () => {
    const client = new Redis({ ...LOCAL_REDIS, db: 3 });
    try {
      const store = openStore({ connection: `redis://${LOCAL_REDIS.host}:${LOCAL_REDIS.port}/3` });
      await store.createRun(makeRunRecord('r1'));
      expect(await client.keys(`${prefix}*`)).toContain(`${prefix}run:r1`);
      expect(await keysUnder(prefix)).toEqual([]); // not in database 0
    } finally {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
      await client.quit();
    }
    for (const connection of ['127.0.0.1:6379', '', null, 42]) {
      expect(() => new RedisRunStore({ connection: connection as never })).toThrow(/RedisRunStore needs \{ connection \}/);
    }
  });

  it('loads its scripts into a Redis that does not have them cached (EVALSHA falls back to EVAL)', async () => {
    // A private server: flushing the shared Redis's script cache would disturb other suites.
    const server = await createPrivateRedisServer();
    try {
      await server.start();
      const privateAdmin = new Redis({ host: '127.0.0.1', port: server.port });
      const store = openStore({ connection: { host: '127.0.0.1', port: server.port } });
      await store.createRun(makeRunRecord('r1'));
      await privateAdmin.script('FLUSH');
      expect(await store.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);
      expect(await store.recordSteps('r1', 1, [makeStepRecord('b')])).toEqual(['recorded']);
      await store.close();
      await privateAdmin.quit();
    } finally {
      await server.dispose();
    }
  });

  /**
   * A client of its own whose reply to the first script call on run r1's key that `matches`
   * (given the call's arguments) is lost after Redis ran it; `matched()` counts such calls.
   */
  function clientLosingFirstReply(matches: (args: unknown[]) => boolean = () => true): { client: Redis; matched: () => number } {
    const client = new Redis(LOCAL_REDIS);
    const realCall = client.call.bind(client) as (...args: unknown[]) => Promise<unknown>;
    let count = 0;
    (client as unknown as { call: (...args: unknown[]) => Promise<unknown> }).call = async (...args: unknown[]) => {
      const answer = await realCall(...args);
      if ((args[0] === 'EVALSHA' || args[0] === 'EVAL') && String(args[3]).endsWith('run:r1') && matches(args) && count++ === 0) throw new Error('Connection is closed.');
      return answer;
    };
    return { client, matched: () => count };
  }

  it('retries a createRun whose reply was lost and finds its own run there: it resolves, and another createRun is still refused', async () => {
    const { client, matched } = clientLosingFirstReply();
    const store = openStore({ connection: client });
    await expect(store.createRun(makeRunRecord('r1'))).resolves.toBeUndefined();
    expect(matched()).toBe(2);
    await expect(store.createRun(makeRunRecord('r1'))).rejects.toThrow("Run 'r1' already exists");
    await store.close();
    await client.quit();
  });

  it('adds a charge once when its reply was lost and it is tried again (each addRunCost is one charge)', async () => {
    // The charge of 100 (its script: the run's key, then the microcents): applied, its reply lost once.
    const { client, matched } = clientLosingFirstReply((args) => args.includes('100'));
    const store = openStore({ connection: client });
    await store.createRun(makeRunRecord('r1'));
    expect(await store.addRunCost('r1', 100)).toBe(100);
    expect(matched()).toBe(2); // the first reply lost, the retry answered
    expect(await store.addRunCost('r1', 50)).toBe(150); // another charge adds
    expect((await store.getRun('r1'))?.run.costMicrocents).toBe(150);
    await store.close();
    await client.quit();
  });

  it('keeps a key per charge for 10 minutes, and none for a read of the total (adding 0)', async () => {
    const store = openStore();
    await store.createRun(makeRunRecord('r1'));
    expect(await store.addRunCost('r1', 0)).toBe(0);
    expect((await keysUnder(prefix)).filter((key) => key.includes(':charge:'))).toEqual([]);
    expect(await store.addRunCost('r1', 40)).toBe(40);
    const charges = (await keysUnder(prefix)).filter((key) => key.includes('charge:'));
    expect(charges).toHaveLength(1);
    const ttl = await admin.pttl(charges[0]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
    expect(await store.addRunCost('missing', 0).catch((error: Error) => error.name)).toBe('RunNotFoundError');
  });

  it('refuses a non-integer cost before writing it', async () => {
    const store = openStore();
    await store.createRun(makeRunRecord('r1'));
    await expect(store.addRunCost('r1', 1.5)).rejects.toThrow('Expected addRunCost microcents to be an integer, got 1.5');
    expect((await store.getRun('r1'))?.run.costMicrocents).toBe(0);
    await store.close();
  });

  describe('durability warning', () => {
    let warn: jest.SpyInstance;
    let server: PrivateRedisServer | undefined;

    beforeEach(() => {
      warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    });

    afterEach(async () => {
      warn.mockRestore();
      await server?.dispose();
      server = undefined;
    });

    it('warns once, on first use, that a Redis without AOF loses runs on restart', async () => {
      expect(((await admin.config('GET', 'appendonly')) as string[])[1]).toBe('no');
      const store = openStore({ warnIfNotDurable: true });
      expect(warn).not.toHaveBeenCalled();
      await store.createRun(makeRunRecord('r1'));
      await store.getRun('r1');
      await store.close();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toContain(`RedisRunStore redis:${prefix} writes to a Redis with appendonly off`);
    });

    it('stays quiet with warnIfNotDurable: false', async () => {
      const store = openStore();
      await store.createRun(makeRunRecord('r1'));
      await store.close();
      expect(warn).not.toHaveBeenCalled();
    });

    it('stays quiet with AOF on, and then keeps every record across a kill -9 of Redis', async () => {
      server = await createPrivateRedisServer(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);
      await server.start();
      const store = openStore({ connection: { host: '127.0.0.1', port: server.port }, warnIfNotDurable: true });
      await store.createRun(makeRunRecord('r1'));
      expect(await store.recordSteps('r1', 1, [makeStepRecord('a'), makeStepRecord('b')])).toEqual(['recorded', 'recorded']);
      await server.kill();
      await server.start();
      expect((await store.getRun('r1'))?.steps).toEqual([makeStepRecord('a'), makeStepRecord('b')]);
      expect(await store.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['duplicate']);
      await store.close();
      expect(warn).not.toHaveBeenCalled();
    }, 30_000);
  });

  describe('when Redis goes away', () => {
    let server: PrivateRedisServer;

    beforeEach(async () => {
      server = await createPrivateRedisServer();
      await server.start();
    });

    afterEach(async () => {
      await server.dispose();
    });

    it('rejects with StoreUnavailableError naming the store and the run, without hanging, and works again once Redis is back', async () => {
      const store = openStore({ connection: { host: '127.0.0.1', port: server.port } });
      await store.createRun(makeRunRecord('r1'));
      expect(await store.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);

      await server.kill();
      const startedAt = Date.now();
      const error = await rejectionOf(store.recordSteps('r1', 1, [makeStepRecord('b')]));
      // A generous bound: it only tells a bounded retry from a hang.
      expect(Date.now() - startedAt).toBeLessThan(20_000);
      expect(StoreUnavailableError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ storeName: `redis:${prefix}`, runId: 'r1', code: 'fastroai:store-unavailable' });
      expect((error as Error).cause).toBeInstanceOf(Error);

      await server.start();
      // This private server keeps nothing on disk: the restarted one is empty.
      expect(await store.getRun('r1')).toBeUndefined();
      await store.createRun(makeRunRecord('r2'));
      expect(await store.recordSteps('r2', 1, [makeStepRecord('a')])).toEqual(['recorded']);
      expect((await store.getRun('r2'))?.steps).toEqual([makeStepRecord('a')]);
      await store.close();
    }, 60_000);

    it('retries through a restart shorter than its retries: the call succeeds', async () => {
      const store = openStore({ connection: { host: '127.0.0.1', port: server.port }, retries: 20 });
      await store.createRun(makeRunRecord('r1'));
      await server.kill();
      const restarted = new Promise((resolve) => setTimeout(resolve, 300)).then(() => server.start());
      const created = store.createRun(makeRunRecord('r2'));
      await restarted;
      await expect(created).resolves.toBeUndefined();
      expect((await store.getRun('r2'))?.run.runId).toBe('r2');
      await store.close();
    }, 60_000);
  });
});
