/**
 * API.md §13 writes the runner inline: `execute(input, undefined, { store, runner: new
 * QueueRunner({ connection }) })`, with no handle left to close it. Its Redis connections keep
 * the process alive only while a step of its waits: a script whose runs ended exits by itself.
 */
import { randomUUID } from 'node:crypto';
import { deleteKeys } from './support/distributed-fixture';
import { killAll, startChild } from './support/processes';

jest.setTimeout(60_000);

afterEach(killAll);

it('lets a script whose runs ended exit without runner.close(), the runner used again after it went idle', async () => {
  const prefix = `fastroai-inline-${randomUUID()}`;
  try {
    const child = startChild('inline-runner-child.ts', [prefix], 'inline runner');
    const answer = (await child.message('result')) as unknown as { outputs: unknown[] };
    expect(answer.outputs).toEqual(['ab', 'ab']);
    // Bounded by far more than a run takes: a runner that kept the process alive never exits.
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([child.exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 15_000)))]);
    clearTimeout(timer);
    expect(exited).toEqual({ code: 0, signal: null });
  } finally {
    await deleteKeys(6379, `${prefix}:*`);
  }
});
