/**
 * Worker CHILD processes for the distributed benchmark rows: the bare BullMQ worker
 * (bench/bare-bullmq-worker.ts) or ours (a createStepWorker script), started the same way and
 * speaking the same small protocol on stdout, one JSON object a line:
 *
 *   {"event":"ready","pid":…}                     once, when the worker listens for jobs
 *   {"event":"started","jobId":"…","pid":…}       when a job that asks for it (`report`) starts
 *
 * Anything else on stdout is ignored; stderr is kept for the error message of a worker that dies.
 * `BENCH_WORKER_NODE_ARGS` (space-separated) adds options to each worker's `node`, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/profiles` to profile the workers of a measurement.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { join } from 'node:path';

/** A line a worker printed. */
export interface WorkerEvent {
  event: string;
  pid: number;
  jobId?: string;
  [key: string]: unknown;
}

/** Started worker processes. */
export interface WorkerProcesses {
  children: ChildProcess[];
  /** Every event of every worker (`event` is the line's `event`, and `'any'` for all of them). */
  events: EventEmitter;
  /** Resolves with the first event of that type for which `matches` holds. */
  next(event: string, matches?: (line: WorkerEvent) => boolean, timeoutMs?: number): Promise<WorkerEvent>;
  /** Stops them: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Options of {@link startWorkerProcesses}. */
export interface StartWorkerOptions {
  /** The worker's TypeScript file (run with ts-node, transpile-only). */
  script: string;
  count: number;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** How long a worker may take to print `ready`. @default 60_000 */
  readyTimeoutMs?: number;
}

const ROOT = join(__dirname, '..');

/** Options for each worker's `node` (BENCH_WORKER_NODE_ARGS; NODE_OPTIONS does not take `--cpu-prof`). */
const WORKER_NODE_ARGS = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');

/** Starts `count` worker processes and waits until each has printed `ready`. */
export async function startWorkerProcesses(options: StartWorkerOptions): Promise<WorkerProcesses> {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const children: ChildProcess[] = [];
  for (let i = 0; i < options.count; i++) {
    const child = spawn(process.execPath, [...WORKER_NODE_ARGS, '-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', options.script], {
      cwd: ROOT,
      env: { ...process.env, ...options.env, BENCH_WORKER_INDEX: String(i) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let pending = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as WorkerEvent;
        events.emit(parsed.event, parsed);
        events.emit('any', parsed);
      }
    });
    child.once('exit', (code, signal) => events.emit('exit', { event: 'exit', pid: child.pid, code, signal, stderr }));
  }
  const next = (event: string, matches: (line: WorkerEvent) => boolean = () => true, timeoutMs = 120_000) =>
    new Promise<WorkerEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        events.off(event, listener);
        reject(new Error(`no worker '${event}' event within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (line: WorkerEvent) => {
        if (!matches(line)) return;
        clearTimeout(timer);
        events.off(event, listener);
        resolve(line);
      };
      events.on(event, listener);
    });
  const stop = async (graceMs = 5_000) => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  };
  try {
    const ready = new Set<number>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`workers not ready within ${options.readyTimeoutMs ?? 60_000} ms`)), options.readyTimeoutMs ?? 60_000);
      const onExit = (line: WorkerEvent & { stderr?: string }) => {
        clearTimeout(timer);
        reject(new Error(`a worker exited before it was ready (${String(line.code ?? line.signal)}):\n${line.stderr ?? ''}`));
      };
      events.once('exit', onExit);
      events.on('ready', (line: WorkerEvent) => {
        ready.add(line.pid);
        if (ready.size === options.count) {
          clearTimeout(timer);
          events.off('exit', onExit);
          resolve();
        }
      });
    });
  } catch (error) {
    await stop(0);
    throw error;
  }
  return { children, events, next, stop };
}
