/**
 * A child process of tests/sqlite/sqlite-run-store.test.ts: opens the store at argv[2], says
 * `ready`, and on `go` either claims run argv[3] as owner argv[4] (argv[5] = `claim`) or
 * records step `a` (generation 1) of that run at epoch 1 with `attempts` = argv[6]
 * (argv[5] = `record`), then reports the outcome.
 * It imports the store's files, not the package root, to start fast.
 */
import { RunLockedError } from '../../../src/errors/run-locked-error';
import { SqliteRunStore } from '../../../src/sqlite/sqlite-run-store';

const [path, runId, owner, mode, attempts] = process.argv.slice(2);
const store = new SqliteRunStore({ path });

async function act(): Promise<unknown> {
  if (mode === 'record') {
    const usage = {
      inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, inputAudioTokens: 0, outputAudioTokens: 0,
      cacheAudioReadTokens: 0, requestCount: 1, toolCallCount: 0, costMicrocents: 1, processingTimeMs: 1, model: undefined,
    };
    const record = { stepId: 'a', generation: 1, status: 'completed' as const, output: '1', usage, attempts: Number(attempts), startedAt: 1, endedAt: 2, workerId: owner };
    const [outcome] = await store.recordSteps(runId, 1, [record]);
    return { outcome };
  }
  const claimed = await store.claimRun(runId, owner, 60_000);
  return { outcome: 'claimed', epoch: claimed.epoch };
}

process.once('message', () => {
  void act()
    .catch((error: unknown) => ({ outcome: RunLockedError.isInstance(error) ? 'locked' : 'error', code: (error as { code?: string }).code }))
    .then(async (answer) => {
      await store.close();
      process.send?.(answer, () => process.disconnect());
    });
});
process.send?.('ready');
