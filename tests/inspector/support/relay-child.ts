/**
 * A child process of tests/inspector/inspector-browser.test.ts: runs the `relay` pipeline
 * (support/relay-pipeline.ts) into the SQLite file argv[2] under run id argv[3]. `held` waits
 * until the file argv[4] exists, so the parent decides when the run goes on. argv[5], when
 * given, is the run's `leaseSeconds`. A run that fails is printed (its cause too) and exits 1.
 * Started from the repo root with `node -r ts-node/register/transpile-only -r tsconfig-paths/register`.
 */
import { SqliteRunStore } from 'fastroai/sqlite';
import { relayPipeline } from './relay-pipeline';

async function main(): Promise<void> {
  const [path, runId, releaseFile, leaseSeconds] = process.argv.slice(2);
  const store = new SqliteRunStore({ path });
  try {
    await relayPipeline(releaseFile).execute({}, undefined, { store, runId, ...(leaseSeconds === undefined ? {} : { leaseSeconds: Number(leaseSeconds) }) });
  } finally {
    await store.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
