/**
 * One distributed test's world: a SQLite store file shared by the processes, a unique BullMQ
 * prefix on a Redis (the local one, or a private server), a ledger file, and worker child
 * processes (./step-worker-child.ts). `dispose()` stops the workers and removes the keys and files.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRunStore } from 'fastroai/sqlite';
import { QueueRunner } from 'fastroai/distributed';
import Redis from 'ioredis';
import { startChild, type Child } from './processes';
import type { WorkerChildOptions } from './step-worker-child';

export class DistributedFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'fastroai-distributed-'));
  readonly storePath = join(this.dir, 'runs.db');
  readonly storeSpec = `sqlite:${this.storePath}`;
  readonly ledger = join(this.dir, 'ledger.txt');
  readonly prefix = `fastroai-dist-${randomUUID()}`;
  private readonly workers: Child[] = [];
  private readonly closables: Array<{ close(): Promise<void> }> = [];

  constructor(readonly redisPort = 6379) {}

  /** The ledger's lines, as `<label> <stepId>` (each written before a step's work). */
  ledgerLines(): string[] {
    return existsSync(this.ledger) ? readFileSync(this.ledger, 'utf8').split('\n').filter((line) => line !== '') : [];
  }

  /** A store on the shared file (closed by dispose). */
  store(): SqliteRunStore {
    const store = new SqliteRunStore({ path: this.storePath });
    this.closables.push(store);
    return store;
  }

  /** A runner on this fixture's queue (closed by dispose). */
  runner(reconcileIntervalMs = 1_000): QueueRunner {
    const runner = new QueueRunner({ connection: { host: '127.0.0.1', port: this.redisPort }, prefix: this.prefix, reconcileIntervalMs });
    this.closables.push(runner);
    return runner;
  }

  /** Starts a worker process; resolves once it takes jobs. */
  async startWorker(name: string, options: Partial<WorkerChildOptions> = {}): Promise<Child> {
    const full: WorkerChildOptions = { name, redisPort: this.redisPort, prefix: this.prefix, ledger: this.ledger, ...options };
    const child = startChild('step-worker-child.ts', [this.storeSpec, JSON.stringify(full)], name);
    this.workers.push(child);
    await child.message('ready');
    return child;
  }

  async dispose(): Promise<void> {
    for (const closable of this.closables.splice(0).reverse()) await closable.close().catch(() => undefined);
    await Promise.all(
      this.workers.splice(0).map(async (worker) => {
        if (worker.process.connected) worker.process.send('close');
        const exited = await Promise.race([worker.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000).unref())]);
        if (!exited) await worker.kill();
      }),
    );
    await deleteKeys(this.redisPort, `${this.prefix}:*`).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Deletes the keys matching `pattern` on the Redis at `port`. */
export async function deleteKeys(port: number, pattern: string): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(pattern);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
