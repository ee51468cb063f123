/**
 * API.md §13 writes the runner inline: `execute(input, undefined, { store, runner: new
 * QueueRunner({ connection }) })`, with no handle left to close it. Its Redis connections keep
 * the process alive only while a step of its waits or a call of its is in flight: a script
 * whose runs ended exits by itself, and one that closes the runner gets past `close()`.
 */
import { randomUUID } from 'node:crypto';
import { deleteKeys } from './support/distributed-fixture';
import { killAll, startChild, type Child } from './support/processes';

jest.setTimeout(60_000);

afterEach(killAll);

/** Runs the child script in `mode` on a fresh prefix; its answer, and how it ended (or 'still running' after 15 s). */
async function runChild(mode: 'inline' | 'close'): Promise<{ outputs: unknown[]; exited: unknown; child: Child }> {
  const prefix = `fastroai-inline-${randomUUID()}`;
  try {
    const child = startChild('inline-runner-child.ts', [prefix, mode], `inline runner (${mode})`);
    const { outputs } = (await child.message('result')) as unknown as { outputs: unknown[] };
    // Bounded by far more than a run takes: a runner that kept the process alive never exits.
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([child.exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 15_000)))]);
    clearTimeout(timer);
    return { outputs, exited, child };
  } finally {
    await deleteKeys(6379, `${prefix}:*`);
  }
}

it('lets a script whose runs ended exit without runner.close(), the runner used again after it went idle', async () => {
  const { outputs, exited } = await runChild('inline');
  expect(outputs).toEqual(['ab', 'ab']);
  expect(exited).toEqual({ code: 0, signal: null });
});

it('keeps the process up through runner.close(), the code after it run, when nothing else holds the process', async () => {
  const { outputs, exited, child } = await runChild('close');
  expect(outputs).toEqual(['ab']);
  expect(exited).toEqual({ code: 0, signal: null });
  expect(child.output()).toContain('closed');
});
