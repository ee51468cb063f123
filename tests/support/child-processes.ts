/**
 * Child processes of the process tests (a killed caller, queue workers): TypeScript scripts
 * started with ts-node from the repo root, talking over IPC (`serialization: 'advanced'`, so
 * messages may hold Dates, Maps, Sets and BigInts); and a poll that waits on them. Every child
 * started here is killed by {@link killAll} (call it in afterEach).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..');

/** A message a child sent. */
export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

/** A running child: its process, what it printed, and the messages it sent (of type `M`). */
export interface Child<M extends ChildMessage = ChildMessage> {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** The first message of this type (also one already received); rejects if the child exits first. */
  message(type: M['type']): Promise<M>;
  /** SIGKILL; resolves once it exited. */
  kill(): Promise<void>;
}

const started: ChildProcess[] = [];

/**
 * Starts `scriptPath` (absolute) with `args`.
 * @param label names the child in the error of a `message` it exited before sending
 */
export function startChildProcess<M extends ChildMessage = ChildMessage>(scriptPath: string, args: string[], label: string): Child<M> {
  const child = fork(scriptPath, args, {
    cwd: REPO_ROOT,
    execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const received: M[] = [];
  const waiting: Array<() => void> = [];
  child.on('message', (message: M) => {
    received.push(message);
    for (const wake of waiting.splice(0)) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiting.splice(0)) wake();
    }),
  );
  const message = (type: M['type']) =>
    new Promise<M>((resolve, reject) => {
      const check = () => {
        const found = received.find((candidate) => candidate.type === type);
        if (found !== undefined) return resolve(found);
        if (child.exitCode !== null || child.signalCode !== null) {
          return reject(new Error(`child ${label} exited (${child.exitCode ?? child.signalCode}) before '${type}':\n${output}`));
        }
        waiting.push(check);
      };
      check();
    });
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };
  return { process: child, exited, output: () => output, message, kill };
}

/** Kills every child still running (SIGKILL); resolves once they exited. */
export async function killAll(): Promise<void> {
  const alive = started.splice(0).filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(
    alive.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Polls `condition` every 20 ms; fails after `timeoutMs` naming what it waited for. */
export async function waitUntil(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
