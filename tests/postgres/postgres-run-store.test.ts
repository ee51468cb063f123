import { StoreUnavailableError } from 'fastroai';
import { encodeValue } from '../../src/store/encode-value';
import { PostgresRunStore, type PostgresRunStoreOptions } from 'fastroai/postgres';
import { LATER_RELATIONS, STORE_RELATIONS, createTablesSqlOf } from '../../src/postgres/postgres-schema';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Pool } from 'pg';
import { describeRunStoreContract, makeRunRecord, makeStepRecord } from '../store/run-store-contract';
import { PUSH_MAX_BYTES } from '../../src/postgres/per-step-statements';
import { pushesRecords } from '../../src/store/record-pusher';
import { freePort } from '../support/private-redis-server';

/** Waits until `condition` holds, calling `meanwhile` between looks. */
async function until(condition: () => boolean, meanwhile: () => Promise<void> = async () => undefined, timeoutMs = 5_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > timeoutMs) throw new Error('timed out');
    await meanwhile();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const CONNECTION_STRING = 'postgres://postgres@127.0.0.1:5432/test';
let admin: Pool;
let schemaCount = 0;

function uniqueSchema(): string {
  return `fastroai_test_${process.pid}_${Date.now()}_${++schemaCount}`;
}

async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Terminates every backend of `applicationName`; answers how many. */
async function terminateBackends(applicationName: string): Promise<number> {
  const { rows } = await admin.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'test' AND pid <> pg_backend_pid() AND application_name = $1`,
    [applicationName],
  );
  return rows.length;
}

beforeAll(() => {
  admin = new Pool({ connectionString: CONNECTION_STRING, application_name: 'fastroai-test-admin' });
  admin.on('error', () => {});
});

afterAll(async () => {
  await admin.end();
});

describeRunStoreContract('PostgresRunStore', async ({ now }) => {
  const schema = uniqueSchema();
  return {
    store: new PostgresRunStore({ connectionString: CONNECTION_STRING, schema, now }),
    cleanup: () => dropSchema(schema),
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

describe('PostgresRunStore', () => {
  let schema: string;
  let applicationName: string;
  let opened: { close(): Promise<void> }[];
  let pools: Pool[];

  function openStore(options: Partial<PostgresRunStoreOptions> = {}): PostgresRunStore {
    const store = new PostgresRunStore({ ...(options.pool === undefined ? { connectionString: CONNECTION_STRING } : {}), schema, ...options });
    opened.push(store);
    return store;
  }

  /** A pool of the test's own, named so that its backends can be terminated. */
  function openPool(): Pool {
    const pool = new Pool({ connectionString: CONNECTION_STRING, application_name: applicationName });
    pools.push(pool);
    return pool;
  }

  type Query = (...args: unknown[]) => Promise<unknown>;

  /** A pool of the test's own whose `query` calls go through `intercept`, given the statement's text and the real `query`. */
  function openInterceptedPool(intercept: (text: string, args: unknown[], query: Query) => Promise<unknown>): Pool {
    const pool = openPool();
    const query = pool.query.bind(pool) as Query;
    (pool as unknown as { query: Query }).query = (...args: unknown[]) => {
      const config = args[0] as string | { text: string };
      return intercept(typeof config === 'string' ? config : config.text, args, query);
    };
    return pool;
  }

  beforeEach(() => {
    schema = uniqueSchema();
    applicationName = `fastroai-test-${schema}`;
    opened = [];
    pools = [];
  });

  afterEach(async () => {
    await Promise.all(opened.map((store) => store.close()));
    await Promise.all(pools.map((pool) => pool.end()));
    await dropSchema(schema);
  });

  it('refuses a misspelt option (it would connect to the PG* environment\'s database) before connecting', () => {
    expect(() => new PostgresRunStore({ conectionString: CONNECTION_STRING, schema } as never)).toThrow(
      /^PostgresRunStore options: unknown option 'conectionString' .*Did you mean 'connectionString'\?$/,
    );
    expect(() => new PostgresRunStore(null as never)).toThrow(/^PostgresRunStore expects options \{ pool, connectionString, /);
  });

  it('creates its schema and tables once, also when several stores start at the same time', async () => {
    const stores = Array.from({ length: 4 }, () => openStore());
    await Promise.all(stores.map((store, index) => store.createRun(makeRunRecord(`r${index}`))));
    const { rows } = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
    expect(rows.map((row) => row.table_name)).toEqual(['cancel_requests', 'charges', 'runs', 'steps']);
    expect((await stores[0].listRuns()).runs.map((run) => run.runId)).toEqual(['r3', 'r2', 'r1', 'r0']);
  });

  it('keeps encoded values byte for byte (TEXT, not JSONB) and times and money as BIGINT', async () => {
    const store = openStore();
    const input = '{"b":1,  "a":[2,1],"big":12345678901234567890}';
    await store.createRun(makeRunRecord('r1', { input, costMicrocents: 2 ** 53 - 1 }));
    const record = makeStepRecord('a', 1, { output: '{"z":0,"a":1}' });
    await store.recordSteps('r1', 1, [record]);
    const stored = await store.getRun('r1');
    expect(stored?.run.input).toBe(input);
    expect(stored?.run.costMicrocents).toBe(2 ** 53 - 1);
    expect(stored?.steps[0].output).toBe('{"z":0,"a":1}');
    const { rows } = await admin.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'runs' AND column_name IN ('input', 'created_at', 'cost_microcents') ORDER BY column_name`,
      [schema],
    );
    expect(rows).toEqual([
      { column_name: 'cost_microcents', data_type: 'bigint' },
      { column_name: 'created_at', data_type: 'bigint' },
      { column_name: 'input', data_type: 'text' },
    ]);
  });

  it('keeps record times as whole ms: a fractional time (a writer\'s own clock) is rounded, not refused', async () => {
    const store = openStore();
    await store.createRun(makeRunRecord('r1'));
    const record = makeStepRecord('a', 1, { startedAt: 1_700_000_000_000.4, endedAt: 1_700_000_000_001.6 });

    expect(await store.recordSteps('r1', 1, [record])).toEqual(['recorded']);
    const stored = (await store.getRun('r1'))!.steps[0];
    expect([stored.startedAt, stored.endedAt]).toEqual([1_700_000_000_000, 1_700_000_000_002]);
  });

  it('keeps the encoded text of every record of a batch byte for byte: quotes, backslashes, non-BMP characters, escapes, no output', async () => {
    const store = openStore();
    await store.createRun(makeRunRecord('r1'));
    const texts = ['"quoted" \\ back\\slash', 'line\nbreak\ttab', '🦜 naïve 中文', encodeValue('lone \ud800 surrogate'), encodeValue({ a: '\u0000', b: '"\\' }), '{}', ' ', ''];
    const records = [
      ...texts.map((output, index) => makeStepRecord(`s${index}`, 1, { output })),
      makeStepRecord('failed', 1, { status: 'failed', output: undefined, error: { name: 'Error', code: 'STEP_EXECUTION', message: 'a "bad" \\ day 🦜' } }),
    ];
    expect(await store.recordSteps('r1', 1, records)).toEqual(records.map(() => 'recorded'));
    expect((await store.getRun('r1'))?.steps).toEqual(records);
  });

  it('orders ties on createdAt by runId bytewise (run_id is COLLATE "C")', async () => {
    const store = openStore();
    const ids = ['run_1', 'run-1', 'Run-1', 'run-10', 'ruN'];
    for (const runId of ids) await store.createRun(makeRunRecord(runId));
    expect((await store.listRuns()).runs.map((run) => run.runId)).toEqual([...ids].sort().reverse());
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => new PostgresRunStore({ connectionString: CONNECTION_STRING, schema: 'x"; DROP TABLE y; --' })).toThrow(
      /Expected PostgresRunStore schema to be a plain identifier/,
    );
  });

  it('leaves a pool it was given open on close, and ends one it opened', async () => {
    const pool = openPool();
    const given = openStore({ pool });
    await given.createRun(makeRunRecord('r1'));
    await given.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

    const own = openStore({ retries: 0 });
    await own.getRun('r1');
    await own.close();
    await expect(own.getRun('r1')).rejects.toThrow();
  });

  it('retries a createRun whose reply was lost and finds its own run there: it resolves, and another createRun is still refused', async () => {
    let lostReplies = 0;
    const pool = openInterceptedPool(async (text, args, query) => {
      const result = await query(...args);
      if (text.includes('INSERT INTO') && text.includes('.runs') && lostReplies++ === 0) throw new Error('Connection terminated unexpectedly');
      return result;
    });
    const store = openStore({ pool });
    await expect(store.createRun(makeRunRecord('r1'))).resolves.toBeUndefined();
    expect(lostReplies).toBe(2);
    await expect(store.createRun(makeRunRecord('r1'))).rejects.toThrow("Run 'r1' already exists");
  });

  it('adds a charge once when it waited past its timeout for a lock (the server cancels it before it is tried again)', async () => {
    const store = openStore({ queryTimeoutMs: 200 });
    await store.createRun(makeRunRecord('r1'));
    // Another transaction holds the run's row for 600 ms: each try times out until it lets go.
    const locker = await admin.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT * FROM "${schema}".runs WHERE run_id = 'r1' FOR UPDATE`);
      const adding = store.addRunCost('r1', 100);
      await new Promise((resolve) => setTimeout(resolve, 600));
      await locker.query('COMMIT');
      expect(await adding).toBe(100);
    } finally {
      locker.release();
    }
    await new Promise((resolve) => setTimeout(resolve, 300)); // a try the client gave up on would land by now
    expect((await store.getRun('r1'))?.run.costMicrocents).toBe(100);
  });

  it('adds a charge once when its answer was lost after the server committed it (the retry finds the charge applied)', async () => {
    let lostAnswers = 0;
    const pool = openInterceptedPool(async (text, args, query) => {
      const result = await query(...args);
      if (text.includes('cost_microcents + $2') && lostAnswers++ === 0) throw new Error('Connection terminated unexpectedly');
      return result;
    });
    const store = openStore({ pool });
    await store.createRun(makeRunRecord('r1'));
    expect(await store.addRunCost('r1', 100)).toBe(100);
    expect(lostAnswers).toBe(2);
    expect(await store.addRunCost('r1', 5)).toBe(105);
    expect((await store.getRun('r1'))?.run.costMicrocents).toBe(105);
  });

  it('reads the total for a charge of 0 without writing the run', async () => {
    const store = openStore();
    await store.createRun(makeRunRecord('r1'));
    await store.addRunCost('r1', 7);
    const versionOf = async () => (await admin.query(`SELECT xmin::text AS version FROM "${schema}".runs WHERE run_id = 'r1'`)).rows[0].version as string;
    const before = await versionOf();
    expect(await store.addRunCost('r1', 0)).toBe(7);
    expect(await versionOf()).toBe(before);
    await expect(store.addRunCost('missing', 0)).rejects.toThrow("Run 'missing' not found");
  });

  it('forgets the charges older than 10 minutes by the server\'s clock, at most once a minute per store; a store whose own clock runs ahead changes nothing', async () => {
    const store = openStore();
    await store.createRun(makeRunRecord('r1'));
    const charges = async () => (await admin.query(`SELECT count(*)::int AS n FROM "${schema}".charges`)).rows[0].n as number;
    await store.addRunCost('r1', 1);
    await admin.query(`UPDATE "${schema}".charges SET charged_at = charged_at - 11 * 60000`); // 11 minutes old now
    await store.addRunCost('r1', 1);
    expect(await charges()).toBe(2); // no prune within a minute of this store's last
    // A store whose clock is 11 minutes ahead (the `now` of leases) prunes by the server's clock.
    const ahead = openStore({ now: () => Date.now() + 11 * 60_000 });
    await ahead.addRunCost('r1', 1);
    expect(await charges()).toBe(2); // the aged one went, the recent two stay
    expect((await store.getRun('r1'))?.run.costMicrocents).toBe(3);
  });

  it('answers the total with the charge in it when a retry waited for its first try to commit', async () => {
    let firstTry: Promise<void> | undefined;
    const pool: Pool = openInterceptedPool(async (text, args, query) => {
      if (text.includes('cost_microcents + $2') && firstTry === undefined) {
        // The first try reaches the server and commits late (a slow commit, a lost answer): the store tries again meanwhile.
        const client = await pool.connect();
        await client.query('BEGIN');
        await client.query(args[0] as never, args[1] as never);
        firstTry = new Promise<void>((resolve) => setTimeout(resolve, 500)).then(async () => {
          await client.query('COMMIT');
          client.release();
        });
        throw new Error('Connection terminated unexpectedly');
      }
      return query(...args);
    });
    const store = openStore({ pool });
    await store.createRun(makeRunRecord('r1'));
    expect(await store.addRunCost('r1', 100)).toBe(100);
    await firstTry;
    expect((await store.getRun('r1'))?.run.costMicrocents).toBe(100);
  });

  /** Pushes heard by a watch of `store`, as they come. */
  async function watchPushes(store: PostgresRunStore): Promise<{ pushes: Array<{ runId: string; records: readonly unknown[] }>; watch: { close(): void } }> {
    const pushes: Array<{ runId: string; records: readonly unknown[] }> = [];
    const watch = await store.watchRecords!((runId, records) => void pushes.push({ runId, records }));
    return { pushes, watch };
  }

  /** Backends of the test's pool (and of a listener opened with its settings) whose last statement was a LISTEN. */
  async function listeningBackends(): Promise<number> {
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN %'`, [applicationName]);
    return rows[0].n as number;
  }

  it('pushes nothing, and offers no watch, unless asked to (pushRecords: a NOTIFY makes commits wait for each other)', async () => {
    const store = openStore();
    expect(store.watchRecords).toBeUndefined();
    expect(pushesRecords(store)).toBe(false);
    expect(pushesRecords(openStore({ pushRecords: true }))).toBe(true);
    expect(() => openStore({ pushRecords: 'yes' as never })).toThrow('Expected PostgresRunStore pushRecords to be a boolean, got yes');
  });

  it('pushes the records a batch writes first to its watchers at commit, in any process, as a read gives them: not duplicates, nor a stale epoch, nor one too large', async () => {
    const writer = openStore({ pushRecords: true });
    await writer.createRun(makeRunRecord('r:1', { epoch: 1 }));
    const { pushes, watch } = await watchPushes(openStore({ pushRecords: true }));
    const failed = makeStepRecord('f', 1, { status: 'failed', output: undefined, error: { name: 'StepTimeoutError', message: 'late', details: { stepId: 'f', timeoutSeconds: 1 } } });
    const big = makeStepRecord('big', 1, { output: JSON.stringify('x'.repeat(PUSH_MAX_BYTES)) });

    expect(await writer.recordSteps('r:1', 1, [makeStepRecord('a'), big, failed])).toEqual(['recorded', 'recorded', 'recorded']);
    expect(await writer.recordSteps('r:1', 1, [makeStepRecord('a', 1, { workerId: 'late' }), makeStepRecord('c', 1, { workerId: 'w1' })])).toEqual(['duplicate', 'recorded']);
    expect(await writer.recordSteps('r:1', 0, [makeStepRecord('d')])).toEqual(['stale-epoch']);
    expect(await writer.recordSteps('r:1', 1, [makeStepRecord('a')])).toEqual(['duplicate']);
    await until(() => pushes.length >= 2);
    await writer.getRun('r:1'); // a round trip more: a third push, had there been one, would have come

    const stored = (await writer.getRun('r:1'))!.steps;
    const asRead = (stepId: string) => JSON.parse(JSON.stringify(stored.find((record) => record.stepId === stepId)));
    expect(pushes).toEqual([
      { runId: 'r:1', records: [asRead('a'), asRead('f')] },
      { runId: 'r:1', records: [asRead('c')] },
    ]);
    watch.close();
  });

  it('pushes what fits in one NOTIFY of a batch, and none of a run whose id alone would not fit', async () => {
    const writer = openStore({ pushRecords: true });
    const { pushes } = await watchPushes(openStore({ pushRecords: true }));
    await writer.createRun(makeRunRecord('r1', { epoch: 1 }));
    const records = Array.from({ length: 8 }, (_, i) => makeStepRecord(`s${i}`, 1, { output: JSON.stringify('y'.repeat(2_000)) }));
    await writer.recordSteps('r1', 1, records);
    const longId = 'r'.repeat(PUSH_MAX_BYTES);
    await writer.createRun(makeRunRecord(longId, { epoch: 1 }));
    expect(await writer.recordSteps(longId, 1, [makeStepRecord('a')])).toEqual(['recorded']);
    await writer.recordSteps('r1', 1, [makeStepRecord('last')]);
    await until(() => pushes.some((push) => push.records.some((record) => (record as { stepId: string }).stepId === 'last')));
    const stepIds = pushes.map((push) => [push.runId, push.records.map((record) => (record as { stepId: string }).stepId)]);
    expect(stepIds).toEqual([
      ['r1', ['s0', 's1', 's2']],
      ['r1', ['last']],
    ]);
  });

  it('listens again on a new connection when its listening one is terminated', async () => {
    const store = openStore({ pool: openPool(), pushRecords: true });
    await store.createRun(makeRunRecord('r1', { epoch: 1 }));
    const { pushes } = await watchPushes(store);
    await store.recordSteps('r1', 1, [makeStepRecord('before')]);
    await until(() => pushes.length === 1);
    expect(await terminateBackends(applicationName)).toBeGreaterThan(0);
    // Pushes sent before the new connection listens are missed: write until one is heard.
    let written = 0;
    await until(() => pushes.length > 1, async () => {
      await store.recordSteps('r1', 1, [makeStepRecord(`after-${written++}`)]).catch(() => undefined);
    }, 10_000);
    expect((pushes[1].records[0] as { stepId: string }).stepId).toMatch(/^after-\d+$/);
  });

  it('listens on a connection of its own, outside its pool (a pool of one goes on serving), only while a watch is open', async () => {
    const pool = new Pool({ connectionString: CONNECTION_STRING, application_name: applicationName, max: 1 });
    pools.push(pool);
    const store = openStore({ pool, pushRecords: true });
    await store.createRun(makeRunRecord('r1', { epoch: 1 }));
    const first = await watchPushes(store);
    const second = await watchPushes(store);
    expect(await store.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);
    await until(() => first.pushes.length === 1 && second.pushes.length === 1);
    expect(await listeningBackends()).toBe(1);
    first.watch.close();
    expect(await listeningBackends()).toBe(1);
    second.watch.close();
    let listening = 1;
    await until(() => listening === 0, async () => {
      listening = await listeningBackends();
    });
  });

  it("listens for the pool's error event: an idle client terminated by the server does not crash the process", async () => {
    const pool = openPool();
    expect(pool.listenerCount('error')).toBe(0);
    const store = openStore({ pool });
    await store.createRun(makeRunRecord('r1'));
    expect(pool.idleCount).toBeGreaterThan(0);
    expect(await terminateBackends(applicationName)).toBeGreaterThan(0);
    for (let tries = 0; tries < 100 && pool.idleCount > 0; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pool.idleCount).toBe(0);
    expect(await store.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);
    await store.close();
    expect(pool.listenerCount('error')).toBe(0);
  });

  it('goes on while its connections are terminated mid-use: every call succeeds or rejects with StoreUnavailableError, nothing is recorded twice', async () => {
    const store = openStore({ pool: openPool() });
    await store.createRun(makeRunRecord('r1'));
    let terminated = 0;
    let terminating = true;
    const terminator = (async () => {
      for (let round = 0; round < 10; round++) {
        terminated += await terminateBackends(applicationName);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      terminating = false;
    })();
    const outcomes: string[] = [];
    for (let index = 0; terminating || index < 10; index++) {
      const batch = [makeStepRecord(`s${index}`), makeStepRecord(`s${Math.max(0, index - 1)}`)];
      try {
        outcomes.push(...(await store.recordSteps('r1', 1, batch)));
      } catch (error) {
        expect(StoreUnavailableError.isInstance(error)).toBe(true);
        outcomes.push('unavailable');
      }
    }
    await terminator;
    expect(terminated).toBeGreaterThan(0);
    expect(await store.recordSteps('r1', 1, [makeStepRecord('after')])).toEqual(['recorded']);
    const steps = (await store.getRun('r1'))!.steps.map((record) => record.stepId);
    expect(new Set(steps).size).toBe(steps.length);
    expect(outcomes.filter((outcome) => outcome === 'recorded').length).toBeLessThanOrEqual(steps.length - 1);
  }, 60_000);

  it('rejects with StoreUnavailableError naming the store and the run when PostgreSQL cannot be reached, without hanging', async () => {
    const port = await freePort();
    const store = openStore({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, retries: 2 });
    const startedAt = Date.now();
    const error = await rejectionOf(store.claimRun('r1', 'host:1:first', 30_000));
    // A generous bound: it only tells a bounded retry from a hang.
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(StoreUnavailableError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ storeName: `postgres:${schema}`, runId: 'r1' });
  }, 30_000);
});

/** A TCP proxy to the local PostgreSQL that can go silent: it stops forwarding, closing nothing (a network partition, a frozen server). */
async function silenceableProxy(): Promise<{ port: number; silence(): void; close(): void }> {
  let silent = false;
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(5432, '127.0.0.1');
    sockets.push(client, upstream);
    client.on('data', (data) => void (silent || upstream.write(data)));
    upstream.on('data', (data) => void (silent || client.write(data)));
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    silence: () => void (silent = true),
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('PostgresRunStore on a connection that goes silent', () => {
  const schema = uniqueSchema();
  afterAll(() => dropSchema(schema));

  it('rejects with StoreUnavailableError after its query timeout instead of hanging', async () => {
    const proxy = await silenceableProxy();
    const store = new PostgresRunStore({ connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test`, schema, retries: 0, queryTimeoutMs: 500 });
    try {
      await store.createRun(makeRunRecord('r1'));
      proxy.silence();
      const startedAt = Date.now();
      const error = await rejectionOf(store.claimRun('r1', 'host:1:first', 30_000));
      expect(StoreUnavailableError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ storeName: `postgres:${schema}`, runId: 'r1' });
      // A generous bound: it only tells the timeout from a hang.
      expect(Date.now() - startedAt).toBeLessThan(15_000);
    } finally {
      proxy.close();
      await store.close();
    }
  }, 30_000);

  it('refuses a query timeout that is not a whole number of ms from 1 up', () => {
    for (const queryTimeoutMs of [0, -1, 1.5, Number.NaN]) expect(() => new PostgresRunStore({ connectionString: CONNECTION_STRING, schema, queryTimeoutMs })).toThrow(/queryTimeoutMs/);
  });
});

describe('PostgresRunStore prepared statements', () => {
  const schemas: string[] = [];
  const pools: Pool[] = [];

  /** A pool of one connection: what the store prepared there is what `pg_prepared_statements` lists. */
  function onePool(): Pool {
    const pool = new Pool({ connectionString: CONNECTION_STRING, max: 1 });
    pool.on('error', () => {});
    pools.push(pool);
    return pool;
  }

  function storeOn(pool: Pool, options: Partial<PostgresRunStoreOptions> = {}): PostgresRunStore {
    const schema = uniqueSchema();
    schemas.push(schema);
    return new PostgresRunStore({ pool, schema, ...options });
  }

  async function preparedOn(pool: Pool): Promise<string[]> {
    const { rows } = await pool.query<{ name: string }>(`SELECT name FROM pg_prepared_statements WHERE name LIKE 'fastroai\\_%' ORDER BY name`);
    return rows.map((row) => row.name);
  }

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
    await Promise.all(schemas.splice(0).map(dropSchema));
  });

  it('prepares the per-step statements once per connection, and none with preparedStatements: false', async () => {
    const pool = onePool();
    const store = storeOn(pool);
    await store.createRun(makeRunRecord('r1'));
    await store.recordSteps('r1', 1, [makeStepRecord('a')]);
    await store.getStepRecord('r1', 'a', 1);
    const prepared = await preparedOn(pool);
    expect(prepared).toHaveLength(2);
    await store.recordSteps('r1', 1, [makeStepRecord('b')]);
    expect(await preparedOn(pool)).toEqual(prepared);

    const plainPool = onePool();
    const plain = storeOn(plainPool, { preparedStatements: false });
    await plain.createRun(makeRunRecord('r1'));
    await plain.recordSteps('r1', 1, [makeStepRecord('a')]);
    expect(await preparedOn(plainPool)).toEqual([]);
  });

  it('names the statements of stores of two schemas that share a connection apart', async () => {
    const pool = onePool();
    const [first, second] = [storeOn(pool), storeOn(pool)];
    await first.createRun(makeRunRecord('r1'));
    await second.createRun(makeRunRecord('r1'));
    expect(await first.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);
    expect(await second.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);
    expect(await first.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['duplicate']);
    expect(await preparedOn(pool)).toHaveLength(2);
  });

  it('goes on with statements prepared before its schema was dropped and created again', async () => {
    const pool = onePool();
    const store = storeOn(pool);
    await store.createRun(makeRunRecord('r1'));
    expect(await store.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);
    await dropSchema(schemas[0]);
    const again = new PostgresRunStore({ pool, schema: schemas[0] });
    await again.createRun(makeRunRecord('r1'));
    expect(await again.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);
    expect((await again.getRun('r1'))?.steps.map((step) => step.stepId)).toEqual(['a']);
  });
});

describe('PostgresRunStore fencing (API.md §12: a record of a stale epoch is never accepted once a claim committed)', () => {
  const LEASE_MS = 30_000;
  let schema: string;
  let applicationName: string;
  let stores: PostgresRunStore[];
  let pools: Pool[];

  /** A store on a pool of its own, named so that its backends can be watched in pg_stat_activity. */
  function openStore(options: Partial<PostgresRunStoreOptions> = {}): PostgresRunStore {
    const pool = new Pool({ connectionString: CONNECTION_STRING, application_name: applicationName });
    pool.on('error', () => {});
    pools.push(pool);
    const store = new PostgresRunStore({ pool, schema, ...options });
    stores.push(store);
    return store;
  }

  /** Makes every insert into `steps` sleep: a recordSteps holds the run's row while a claim comes in. */
  async function holdInserts(seconds: number): Promise<void> {
    await admin.query(`CREATE FUNCTION "${schema}".hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(${seconds}); RETURN NEW; END $$`);
    await admin.query(`CREATE TRIGGER hold BEFORE INSERT ON "${schema}".steps FOR EACH ROW EXECUTE FUNCTION "${schema}".hold()`);
  }

  /** The store's backends that wait on `waitEvent` (`PgSleep`: inside the held insert) or on a lock (`Lock`). */
  async function backendsWaitingOn(waitEvent: 'PgSleep' | 'Lock'): Promise<number> {
    const column = waitEvent === 'Lock' ? 'wait_event_type' : 'wait_event';
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND ${column} = $2`, [applicationName, waitEvent]);
    return rows[0].n as number;
  }

  async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
    for (let tries = 0; tries < 250; tries++) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`timed out waiting until ${what}`);
  }

  beforeEach(() => {
    schema = uniqueSchema();
    applicationName = `fastroai-test-${schema}`;
    stores = [];
    pools = [];
  });

  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await Promise.all(pools.map((pool) => pool.end()));
    await dropSchema(schema);
  });

  it('makes a claim that comes while a recordSteps holds the run wait for its commit: the claim sees what it recorded', async () => {
    const writer = openStore();
    // The claimer's clock is past the writer's lease.
    const claimer = openStore({ now: () => makeRunRecord('r1').leaseUntil + 1 });
    await writer.createRun(makeRunRecord('r1'));
    // Each store checks its tables on first use, and CREATE INDEX IF NOT EXISTS locks the table
    // (a claim would wait on that instead of on the run's row): before the inserts are held.
    await claimer.getRun('r1');
    await holdInserts(0.5);
    const recording = writer.recordSteps('r1', 1, [makeStepRecord('a')]);
    await eventually(async () => (await backendsWaitingOn('PgSleep')) === 1, 'the recordSteps is inside its insert');
    // Without a lock that conflicts with the claim's UPDATE, the claim commits now, without 'a',
    // and 'a' is accepted after it, under the stale epoch 1.
    const claimed = await claimer.claimRun('r1', 'host:2:second', LEASE_MS);
    expect(await recording).toEqual(['recorded']);
    expect(claimed.epoch).toBe(2);
    expect(claimed.steps.map((record) => record.stepId)).toEqual(['a']);
  }, 20_000);

  it('makes a recordSteps that comes while a claim holds the run wait for it, then refuses its stale epoch', async () => {
    const writer = openStore();
    await writer.createRun(makeRunRecord('r1'));
    const claim = await admin.connect();
    try {
      await claim.query('BEGIN');
      await claim.query(`UPDATE "${schema}".runs SET epoch = epoch + 1, owner = 'host:2:second' WHERE run_id = 'r1'`);
      const recording = writer.recordSteps('r1', 1, [makeStepRecord('a')]);
      await eventually(async () => (await backendsWaitingOn('Lock')) === 1, "the recordSteps waits for the claim's lock");
      await claim.query('COMMIT');
      expect(await recording).toEqual(['stale-epoch']);
    } finally {
      await claim.query('ROLLBACK').catch(() => {});
      claim.release();
    }
    expect((await writer.getRun('r1'))?.steps).toEqual([]);
  }, 20_000);

  it('lets two writers of one run (two workers) record at the same time: neither waits for the other', async () => {
    const [first, second] = [openStore(), openStore()];
    await first.createRun(makeRunRecord('r1'));
    await second.getRun('r1'); // checks its tables, as above
    await holdInserts(0.5);
    const recordings = [first.recordSteps('r1', 1, [makeStepRecord('a')]), second.recordSteps('r1', 1, [makeStepRecord('b')])];
    // Under FOR UPDATE the second waits on a lock until the first has committed: never two at once.
    await eventually(async () => (await backendsWaitingOn('PgSleep')) === 2, 'both recordSteps are inside their inserts at once');
    expect(await Promise.all(recordings)).toEqual([['recorded'], ['recorded']]);
  }, 20_000);
});

describe('PostgresRunStore opened beside writes in flight', () => {
  let schema: string;
  const pools: Pool[] = [];

  beforeEach(() => {
    schema = uniqueSchema();
  });

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
    await dropSchema(schema);
  });

  it('names in STORE_RELATIONS and LATER_RELATIONS every table and index its DDL creates (else an existing schema would never get a new one)', () => {
    const created = createTablesSqlOf('"s"').flatMap((statement) => /CREATE (?:TABLE|INDEX) IF NOT EXISTS (?:"s"\.)?(\w+)/.exec(statement)?.[1] ?? []);
    expect([...created].sort()).toEqual([...STORE_RELATIONS, ...LATER_RELATIONS].sort());
  });

  it("adds a table of a newer version to a schema an older version created (cancel_requests)", async () => {
    const first = new PostgresRunStore({ connectionString: CONNECTION_STRING, schema });
    await first.createRun(makeRunRecord('r1'));
    await first.close();
    await admin.query(`DROP TABLE "${schema}".cancel_requests`); // the schema as fastroai before requestCancel made it
    const second = new PostgresRunStore({ connectionString: CONNECTION_STRING, schema });
    try {
      expect(await second.requestCancel('r1', 'stop')).toBe('requested');
      expect(await second.cancelRequested('r1', 1)).toBe('stop');
    } finally {
      await second.close();
    }
  });

  it('opens an older schema with a role that may not create tables: everything works but requestCancel, which names the table to create', async () => {
    const first = new PostgresRunStore({ connectionString: CONNECTION_STRING, schema });
    await first.createRun(makeRunRecord('r1'));
    await first.close();
    await admin.query(`DROP TABLE "${schema}".cancel_requests`);
    // An application role with data rights only (an administrator runs the DDL).
    const role = `${schema}_app`;
    await admin.query(`CREATE ROLE "${role}" LOGIN`);
    try {
      await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO "${role}"`);
      await admin.query(`REVOKE CREATE ON SCHEMA "${schema}" FROM PUBLIC`);
      const store = new PostgresRunStore({ connectionString: `postgres://${role}@127.0.0.1:5432/test`, schema });
      try {
        expect((await store.getRun('r1'))?.run.runId).toBe('r1');
        expect(await store.recordSteps('r1', 1, [makeStepRecord('a')])).toEqual(['recorded']);
        expect(await store.cancelRequested('r1', 1)).toBeUndefined(); // no table: nothing was requested
        const refused = await rejectionOf(store.requestCancel('r1', 'stop'));
        expect(String((refused as Error).message)).toMatch(/cannot use its table cancel_requests .*CREATE TABLE IF NOT EXISTS "[^"]+"\.cancel_requests .*grant SELECT, INSERT, UPDATE on it/);
      } finally {
        await store.close();
      }
    } finally {
      await admin.query(`DROP OWNED BY "${role}"`);
      await admin.query(`DROP ROLE "${role}"`);
    }
  });

  it('does not wait for a transaction that is writing steps: a store whose tables exist runs no DDL', async () => {
    const first = new PostgresRunStore({ connectionString: CONNECTION_STRING, schema });
    await first.createRun(makeRunRecord('r1'));
    await first.close();
    const writer = await admin.connect();
    const pool = new Pool({ connectionString: CONNECTION_STRING, application_name: `fastroai-test-${schema}` });
    pool.on('error', () => {});
    pools.push(pool);
    try {
      // What a recordSteps in flight holds: a ROW EXCLUSIVE lock on steps, which CREATE INDEX (SHARE) waits for.
      await writer.query('BEGIN');
      await writer.query(`LOCK TABLE "${schema}".steps IN ROW EXCLUSIVE MODE`);
      const second = new PostgresRunStore({ pool, schema });
      let answered = false;
      const reading = second.getRun('r1').then((run) => {
        answered = true;
        return run;
      });
      for (let tries = 0; !answered; tries++) {
        const { rows } = await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [`fastroai-test-${schema}`]);
        expect(rows[0].n).toBe(0);
        expect(tries).toBeLessThan(500);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect((await reading)?.run.runId).toBe('r1');
    } finally {
      await writer.query('ROLLBACK');
      writer.release();
    }
  }, 20_000);
});
