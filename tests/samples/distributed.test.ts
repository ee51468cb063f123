/**
 * samples/distributed as a user runs it: two worker processes (samples/distributed/worker.ts
 * w1, w2), then the caller (samples/distributed/caller.ts), on the local Redis under a unique
 * prefix and a temporary SQLite store. The progress lines and the Gantt chart name the worker
 * of each step, and both workers ran steps of the run.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { deleteKeys } from '../distributed/support/distributed-fixture';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const TS_NODE = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];

describe('samples/distributed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fastroai-distributed-sample-'));
  const prefix = `fastroai-sample-${randomUUID()}`;
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', FORCE_COLOR: '0', FASTROAI_STORE: join(dir, 'runs.db'), FASTROAI_QUEUE_PREFIX: prefix, FASTROAI_GANTT: join(dir, 'gantt.md') };
  const workers: ChildProcess[] = [];
  let workerOutput = '';

  function startWorker(name: string): Promise<void> {
    const child = spawn(process.execPath, [...TS_NODE, join('samples', 'distributed', 'worker.ts'), name], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    workers.push(child);
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        workerOutput += chunk.toString();
        if (workerOutput.includes(`worker ${name} ready`)) resolve();
      });
      child.stderr!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`worker ${name} exited (${code}):\n${workerOutput}`)));
    });
  }

  afterAll(async () => {
    await Promise.all(
      workers.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill('SIGKILL'), 3_000);
            child.once('exit', () => (clearTimeout(force), resolve()));
            child.kill('SIGTERM');
          }),
      ),
    );
    await deleteKeys(6379, `${prefix}:*`);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('runs the caller against two workers: progress and Gantt chart name each step\'s worker', async () => {
    await Promise.all([startWorker('w1'), startWorker('w2')]);
    const { stdout } = await run(process.execPath, [...TS_NODE, join('samples', 'distributed', 'caller.ts')], { cwd: root, env, timeout: 120_000 });
    expect(stdout).toContain('output: 972 USD');
    for (const id of ['extract', 'classify', 'fetchMarket', 'fetchUser', 'calculate']) {
      expect(stdout).toMatch(new RegExp(`${id} started on w[12]`));
      expect(stdout).toMatch(new RegExp(`${id} done in .* on w[12]`));
      expect(stdout).toMatch(new RegExp(`  ${id} +ran on w[12]\\n`));
    }
    // Each worker, free again, queues for the next job behind the other: both get steps. (Which
    // one runs which step, and whether fetchMarket and fetchUser overlap, depends on timing.)
    const workerOf = (id: string) => new RegExp(`  ${id} +ran on (w[12])`).exec(stdout)![1];
    expect(new Set(['extract', 'classify', 'fetchMarket', 'fetchUser', 'calculate'].map(workerOf))).toEqual(new Set(['w1', 'w2']));
    const gantt = readFileSync(join(dir, 'gantt.md'), 'utf8');
    expect(gantt).toMatch(/fetchMarket [\d.]+ ms, on w[12] :/);
    expect(gantt).toMatch(/fetchUser [\d.]+ ms, on w[12] :/);
    // fetchMarket sleeps 100 ms longer than fetchUser: the critical path, unless fetchUser's
    // worker took its job that much later.
    expect(gantt).toMatch(/%% critical path: extract -> classify -> fetch(Market|User) -> calculate/);
  }, 180_000);
});
