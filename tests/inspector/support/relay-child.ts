/**
 * A child process of tests/inspector/inspector-browser.test.ts: runs the `relay` pipeline
 * (`first → held → last`) into the SQLite file argv[2] under run id argv[3]. `held` waits until
 * the file argv[4] exists, so the parent decides when the run goes on. Started from the repo
 * root with `node -r ts-node/register/transpile-only -r tsconfig-paths/register`.
 */
import { existsSync } from 'node:fs';
import { Pipeline, step } from 'fastroai';
import { SqliteRunStore } from 'fastroai/sqlite';

async function main(): Promise<void> {
  const [path, runId, releaseFile] = process.argv.slice(2);
  const store = new SqliteRunStore({ path });
  const pipeline = new Pipeline({
    name: 'relay',
    steps: {
      first: step(() => ({ handedOver: true })),
      held: step(async (ctx) => {
        while (!existsSync(releaseFile)) {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        return 'released';
      }),
      last: step(() => 'done'),
    },
    dependencies: { held: ['first'], last: ['held'] },
  });
  await pipeline.execute({}, undefined, { store, runId });
  await store.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
