/**
 * A child process of tests/sqlite/sqlite-run-store.test.ts: opens the store at argv[2], says
 * `ready`, and on `go` claims run argv[3] as owner argv[4], then reports the outcome.
 * It imports the store's files, not the package root, to start fast.
 */
import { RunLockedError } from '../../../src/errors/run-locked-error';
import { SqliteRunStore } from '../../../src/sqlite/sqlite-run-store';

const [path, runId, owner] = process.argv.slice(2);
const store = new SqliteRunStore({ path });

process.once('message', () => {
  void store
    .claimRun(runId, owner, 60_000)
    .then(
      (claimed) => ({ outcome: 'claimed', epoch: claimed.epoch }),
      (error: unknown) => ({ outcome: RunLockedError.isInstance(error) ? 'locked' : 'error', code: (error as { code?: string }).code }),
    )
    .then(async (answer) => {
      await store.close();
      process.send?.(answer, () => process.disconnect());
    });
});
process.send?.('ready');
