/**
 * A child process of tests/durable/caller-crash.test.ts. Runs (`execute`) or resumes the crash
 * pipeline (./crash-pipeline.ts) against the store named by argv[2] (see ./store-specs.ts),
 * with the options of argv[3] (JSON, {@link ChildOptions}), and reports over IPC:
 * `{ type: 'ready' }` once it waits for `go` (`waitForGo`), then `{ type: 'result', summary }`
 * or `{ type: 'error', name, code, message }`. With `hold`, that step waits for the parent's
 * next message (`finish`). Started from the repo root with
 * `node -r ts-node/register/transpile-only -r tsconfig-paths/register` and
 * `serialization: 'advanced'` (the summary holds Dates, Maps, Sets and BigInts).
 */
import { deferred } from '../../support/async-helpers';
import { CRASH_PIPELINE_INPUT, crashPipeline, summarize } from './crash-pipeline';
import { openStoreSpec } from './store-specs';

/** What the parent asks of a child. */
export interface ChildOptions {
  mode: 'execute' | 'resume';
  runId: string;
  ledger: string;
  label: string;
  block?: string;
  /** A step that waits for the parent's `finish` message (the message after `go`). */
  hold?: string;
  leaseSeconds?: number;
  /** Say `ready`, then wait for the parent's `go` before running. */
  waitForGo?: boolean;
}

async function main(): Promise<void> {
  const [spec, json] = process.argv.slice(2);
  const options = JSON.parse(json) as ChildOptions;
  const store = openStoreSpec(spec);
  const messages = { go: deferred(), finish: deferred() };
  process.on('message', (message: unknown) => (message === 'go' ? messages.go : messages.finish).resolve());
  const pipeline = crashPipeline({ ledger: options.ledger, label: options.label, block: options.block, hold: options.hold, release: messages.finish.promise });
  if (options.waitForGo === true) {
    process.send!({ type: 'ready' });
    await messages.go.promise;
  }
  let answer: unknown;
  try {
    const result =
      options.mode === 'execute'
        ? await pipeline.execute(CRASH_PIPELINE_INPUT, undefined, { store, runId: options.runId, leaseSeconds: options.leaseSeconds })
        : await pipeline.resume(options.runId, { store, leaseSeconds: options.leaseSeconds });
    answer = { type: 'result', summary: summarize(result) };
  } catch (error) {
    const { name, code, message } = error as { name?: string; code?: string; message?: string };
    answer = { type: 'error', name, code, message };
  }
  await store.close();
  process.removeAllListeners('message');
  process.send!(answer, () => process.disconnect());
}

void main();
