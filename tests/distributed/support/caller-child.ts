/**
 * A caller process of the distributed tests: executes the test pipeline on a QueueRunner with
 * the store of argv[2] and the options of argv[3] (JSON, {@link CallerChildOptions}); says
 * `{ type: 'result', output }` or `{ type: 'error', message }`. The tests kill it (SIGKILL)
 * while its steps are in flight on the workers.
 */
import { QueueRunner } from 'fastroai/distributed';
import { openStoreSpec } from '../../durable/support/store-specs';
import { DISTRIBUTED_INPUT, distributedPipeline } from './distributed-pipeline';

export interface CallerChildOptions {
  runId: string;
  ledger: string;
  redisPort: number;
  prefix: string;
  leaseSeconds: number;
}

async function main(): Promise<void> {
  const [spec, json] = process.argv.slice(2);
  const options = JSON.parse(json) as CallerChildOptions;
  const store = openStoreSpec(spec);
  const runner = new QueueRunner({ connection: { host: '127.0.0.1', port: options.redisPort }, prefix: options.prefix });
  const pipeline = distributedPipeline({ ledger: options.ledger, label: 'caller' });
  let answer: unknown;
  try {
    const result = await pipeline.execute(DISTRIBUTED_INPUT, undefined, { store, runner, runId: options.runId, leaseSeconds: options.leaseSeconds });
    answer = { type: 'result', output: result.output };
  } catch (error) {
    answer = { type: 'error', message: (error as Error).message };
  }
  await runner.close();
  await store.close();
  process.send!(answer, () => process.disconnect());
}

void main();
