/**
 * The store goes away mid-run (issue 9), on the server stores: PostgreSQL terminates the run's
 * connections, and Redis is killed (SIGKILL) and restarted, with its AOF on (the records
 * survive) or off (they are gone). The run either completes (the client reconnected; every step
 * recorded once) or rejects with a FastroAIError naming the store and the run: never a hang,
 * never a crash, nothing recorded twice; and when it failed with the records intact, a resume
 * once the lease expired completes, each step having run at most twice.
 */
import { randomUUID } from 'node:crypto';
import { FastroAIError, RunLeaseLostError, RunNotFoundError, StoreUnavailableError, type RunStore } from 'fastroai';
import { PostgresRunStore } from 'fastroai/postgres';
import { RedisRunStore } from 'fastroai/redis';
import { Pool } from 'pg';
import { rejectionOf, sleep, within } from '../support/async-helpers';
import { createPrivateRedisServer, type PrivateRedisServer } from '../support/private-redis-server';
import { POSTGRES_URL } from './support/store-specs';
import {
  HANG_MS,
  recordsOf,
  resumeOnceLeaseExpired,
  startRunInB,
  storeAwayChain as chain,
  type Outcome,
  type RunInB,
} from './support/store-away-chain';

jest.setTimeout(90_000);

const EVERY_STEP_ONCE = ['a@1:completed', 'b@1:completed', 'c@1:completed'];

/**
 * The checks every "store went away" run passes when the store kept its records: completed
 * with each step run and recorded once, or failed with StoreUnavailableError naming the store
 * and the run, each step recorded at most once, and a resume completes with each step recorded
 * once and run at most twice.
 */
async function expectCompletedOrResumable(run: RunInB, outcome: Outcome, open: () => RunStore, storeName: string): Promise<void> {
  const { ledger, runId } = run;
  expect(outcome).not.toBe('hung');
  if (outcome === 'hung') return;
  if ('resolved' in outcome) {
    expect(outcome.resolved).toBe('abc');
    expect(ledger).toEqual({ a: 1, b: 1, c: 1 });
    expect(await recordsOf(open, runId)).toEqual(EVERY_STEP_ONCE);
    return;
  }
  expect(StoreUnavailableError.isInstance(outcome.rejected)).toBe(true);
  expect(outcome.rejected).toMatchObject({ storeName, runId });
  expect((outcome.rejected as Error).message).toContain(storeName);
  expect((outcome.rejected as Error).message).toContain(`'${runId}'`);
  const recorded = await recordsOf(open, runId);
  expect(recorded).toEqual(EVERY_STEP_ONCE.slice(0, recorded.length));
  expect(recorded.length).toBeGreaterThanOrEqual(1); // b was admitted only once a was recorded

  const resumed = await resumeOnceLeaseExpired(chain(ledger, Promise.resolve(), () => undefined), open, runId);
  expect(resumed.output).toBe('abc');
  expect(resumed.usage?.totalCostMicrocents).toBe(700);
  expect(await recordsOf(open, runId)).toEqual(EVERY_STEP_ONCE);
  expect(ledger.a).toBe(1);
  for (const id of ['b', 'c']) expect(ledger[id]).toBeLessThanOrEqual(2);
}

describe('the store goes away (PostgreSQL)', () => {
  let admin: Pool;
  let pool: Pool;
  let poolEnded: boolean;
  let schema: string;
  let applicationName: string;
  const openFresh = () => new PostgresRunStore({ connectionString: POSTGRES_URL, schema });

  /** Terminates every backend of the run's pool. */
  async function terminateBackends(): Promise<void> {
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND application_name = $1`,
      [applicationName],
    );
  }

  /**
   * Ends the run's pool, as the run's process going away would: a lease renewal still retrying
   * after the run rejected (see the it.failing test under Redis) cannot land afterwards.
   */
  async function endPool(): Promise<void> {
    poolEnded = true;
    await pool.end();
  }

  beforeAll(() => {
    admin = new Pool({ connectionString: POSTGRES_URL, application_name: 'fastroai-test-away-admin' });
    admin.on('error', () => {});
  });

  afterAll(async () => {
    await admin.end();
  });

  beforeEach(() => {
    schema = `fastroai_away_${randomUUID().replace(/-/g, '')}`;
    applicationName = `fastroai-away-${schema.slice(-12)}`;
    // The run's own pool, named so that only its backends are terminated.
    pool = new Pool({ connectionString: POSTGRES_URL, application_name: applicationName, connectionTimeoutMillis: 10_000 });
    poolEnded = false;
  });

  afterEach(async () => {
    if (!poolEnded) await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('completes, or fails with StoreUnavailableError and resumes, when its connections are terminated once mid-run', async () => {
    const store = new PostgresRunStore({ pool, schema });
    const run = await startRunInB(store, 'pg-terminated-once');

    await terminateBackends();
    run.openGate();
    const outcome = await run.outcome;
    await store.close();
    await endPool();

    await expectCompletedOrResumable(run, outcome, openFresh, `postgres:${schema}`);
  });

  it('completes, or fails with StoreUnavailableError and resumes, while its connections are terminated over and over', async () => {
    const store = new PostgresRunStore({ pool, schema });
    const run = await startRunInB(store, 'pg-terminated-repeatedly');

    let settled = false;
    let terminations = 0;
    const terminator = (async () => {
      while (!settled) {
        await terminateBackends();
        terminations++;
        await sleep(5);
      }
    })();
    run.openGate();
    const outcome = await run.outcome;
    settled = true;
    await terminator;
    await store.close();
    await endPool();

    expect(terminations).toBeGreaterThan(0);
    await expectCompletedOrResumable(run, outcome, openFresh, `postgres:${schema}`);
  });
});

describe('the store goes away (Redis killed and restarted)', () => {
  let server: PrivateRedisServer | undefined;
  let prefix: string;

  const openOn = (port: number) => () => new RedisRunStore({ connection: { host: '127.0.0.1', port }, prefix, warnIfNotDurable: false });
  /** {@link expectCompletedOrResumable} on the Redis server as it is now. */
  const expectRedisCompletedOrResumable = (run: RunInB, outcome: Outcome) => expectCompletedOrResumable(run, outcome, openOn(server!.port), `redis:${prefix}`);

  beforeEach(() => {
    prefix = `fastroai-away-${randomUUID()}:`;
  });

  afterEach(async () => {
    await server?.dispose();
    server = undefined;
  });

  describe('with AOF on (the records survive)', () => {
    beforeEach(async () => {
      server = await createPrivateRedisServer(['--save', '', '--appendonly', 'yes', '--appendfsync', 'always']);
      await server.start();
    });

    it('completes, or fails with StoreUnavailableError and resumes, when Redis is back before b settles', async () => {
      const store = openOn(server!.port)();
      const run = await startRunInB(store, 'redis-back-before-b');

      await server!.kill();
      await server!.start();
      run.openGate();
      const outcome = await run.outcome;
      await store.close();

      await expectRedisCompletedOrResumable(run, outcome);
    });

    it('completes, or fails with StoreUnavailableError and resumes, when b settles while Redis is down', async () => {
      const store = openOn(server!.port)();
      const run = await startRunInB(store, 'redis-down-while-b');

      await server!.kill();
      run.openGate();
      await sleep(150);
      await server!.start();
      const outcome = await run.outcome;
      await store.close();

      await expectRedisCompletedOrResumable(run, outcome);
    });

    it('fails with StoreUnavailableError naming the store and the run, without hanging, when Redis stays down; a resume once it is back completes', async () => {
      const store = openOn(server!.port)();
      const run = await startRunInB(store, 'redis-stays-down');

      await server!.kill();
      run.openGate();
      const outcome = await run.outcome;
      await store.close();
      await server!.start();

      expect(outcome).toHaveProperty('rejected');
      await expectRedisCompletedOrResumable(run, outcome);
    });

    // A run that ends on a failing store waits for a lease renewal it already sent before it
    // rejects: such a write landing later would move the lease a resume waits for.
    it('writes nothing to the store after the run rejected with StoreUnavailableError (the process and its store live on)', async () => {
      const store = openOn(server!.port)();
      const run = await startRunInB(store, 'redis-late-write');

      await server!.kill();
      run.openGate();
      const outcome = await run.outcome;
      expect(outcome).toHaveProperty('rejected');
      await server!.start();

      const reader = openOn(server!.port)();
      try {
        const before = (await reader.getRun(run.runId))!.run;
        // Lets a write still in flight (ioredis reconnects, the store retries) land.
        await sleep(2500);
        const after = (await reader.getRun(run.runId))!.run;
        expect(after).toEqual(before);
      } finally {
        await reader.close();
        await store.close();
      }
    });
  });

  describe('with persistence off (the records are gone)', () => {
    beforeEach(async () => {
      server = await createPrivateRedisServer(['--save', '', '--appendonly', 'no']);
      await server.start();
    });

    it('fails with a FastroAIError naming the run, without hanging; the run cannot be resumed', async () => {
      const store = openOn(server!.port)();
      const run = await startRunInB(store, 'redis-forgot');

      await server!.kill();
      await server!.start();
      run.openGate();
      const outcome = await run.outcome;
      await store.close();

      expect(outcome).not.toBe('hung');
      expect(outcome).toHaveProperty('rejected');
      const error = (outcome as { rejected: unknown }).rejected;
      expect(FastroAIError.isInstance(error)).toBe(true);
      expect([StoreUnavailableError, RunNotFoundError, RunLeaseLostError].some((kind) => kind.isInstance(error))).toBe(true);
      expect((error as Error).message).toContain(`'${run.runId}'`);
      expect(run.ledger.c).toBeUndefined();

      const resumer = openOn(server!.port)();
      try {
        const resumeError = await within(rejectionOf(chain(run.ledger, Promise.resolve(), () => undefined).resume(run.runId, { store: resumer })), HANG_MS, 'hung' as const);
        expect(RunNotFoundError.isInstance(resumeError)).toBe(true);
      } finally {
        await resumer.close();
      }
    });
  });
});
