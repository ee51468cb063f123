/**
 * The "Distributed runs" rows of `npm run bench` (issue 10): fastroai's QueueRunner +
 * createStepWorker in worker CHILD processes against bare BullMQ with the same worker processes,
 * measured in the same run with the harnesses of bench/bare-bullmq-*.ts:
 * - chain latency: a 200-step chain through 1 and 2 worker processes (ms per step);
 * - throughput: independent no-op steps with 2 worker processes (jobs/s);
 * - recovery: a worker killed with SIGKILL mid-step (s until another worker starts the step).
 *
 *   npx ts-node -T -r tsconfig-paths/register bench/measure-distributed.ts [--quick] [--no-postgres]
 *
 * Needs the local Redis (127.0.0.1:6379) and, for the PostgreSQL rows, PostgreSQL (127.0.0.1:5432, `test`).
 */
import { createBareBullmqChain, measureChainLatencies, type ChainContender, type ChainLatency } from './bare-bullmq-chain';
import { createBareBullmqRecovery, measureRecovery, type RecoveryContender, type RecoveryResult } from './bare-bullmq-recovery';
import { createBareBullmqThroughput, measureThroughputs, type Throughput, type ThroughputContender } from './bare-bullmq-throughput';
import type { SharedStoreKind } from './distributed-bench-store';
import { createFastroaiChain, createFastroaiRecovery, createFastroaiThroughput } from './fastroai-distributed-contenders';
import { availableParallelism } from 'node:os';
import { formatNumber, formatTable } from './format-table';
import { localRedisPid } from './process-cpu';

/** How much to measure. */
export interface DistributedSampling {
  chainSteps: number;
  chainSamples: number;
  chainWarmupRuns: number;
  throughputJobs: number;
  throughputWarmupJobs: number;
  /** Worker processes of the throughput row, and the jobs each runs at a time. */
  throughputWorkers: number;
  throughputConcurrency: number;
  /** Timed batches of each throughput contender, taken in rotating order. */
  throughputRounds: number;
  recoveryKills: number;
  /** The shared stores of our rows (chain and throughput; recovery uses the first). */
  stores: SharedStoreKind[];
}

export function distributedSampling(quick: boolean, stores: SharedStoreKind[]): DistributedSampling {
  return {
    chainSteps: 200,
    chainSamples: quick ? 2 : 5,
    chainWarmupRuns: 1,
    throughputJobs: quick ? 2_000 : 10_000,
    throughputWarmupJobs: quick ? 200 : 500,
    throughputWorkers: 2,
    throughputConcurrency: 8,
    throughputRounds: quick ? 1 : 3,
    recoveryKills: quick ? 1 : 3,
    stores,
  };
}

/** Ours and bare BullMQ, side by side. */
export interface DistributedResults {
  chains: Array<{ workers: number; bare: ChainLatency; ours: ChainLatency[] }>;
  throughput: { bare: Throughput; ours: Throughput[] };
  recovery: { bare: RecoveryResult; ours: RecoveryResult };
}

/** Opens the contenders, measures them together, and always closes them (their Redis keys and stores go away). */
async function measuredWith<C extends { close(): Promise<void> }, R>(open: Array<() => C | Promise<C>>, measure: (contenders: C[]) => Promise<R>): Promise<R> {
  const contenders: C[] = [];
  try {
    for (const opener of open) contenders.push(await opener());
    return await measure(contenders);
  } finally {
    await Promise.all(contenders.map((contender) => contender.close()));
  }
}

/** Runs every distributed measurement: bare BullMQ and ours side by side, in rounds (chains and throughput). */
export async function measureDistributed(sampling: DistributedSampling, progress: (message: string) => void): Promise<DistributedResults> {
  const chainOptions = (workers: number) => ({ steps: sampling.chainSteps, workers, samples: sampling.chainSamples, warmupRuns: sampling.chainWarmupRuns });
  const chains: DistributedResults['chains'] = [];
  for (const workers of [1, 2]) {
    progress(`distributed chain: ${sampling.chainSteps} steps, ${workers} worker process(es) each, bare BullMQ and fastroai (${sampling.stores.join(', ')}), ${sampling.chainSamples} rounds`);
    const [bare, ...ours] = await measuredWith<ChainContender, ChainLatency[]>(
      [() => createBareBullmqChain(), ...sampling.stores.map((store) => () => createFastroaiChain(store, sampling.chainSteps))],
      (contenders) => measureChainLatencies(contenders, chainOptions(workers)),
    );
    chains.push({ workers, bare, ours });
  }

  const throughputOptions = {
    jobs: sampling.throughputJobs,
    workers: sampling.throughputWorkers,
    concurrency: sampling.throughputConcurrency,
    warmupJobs: sampling.throughputWarmupJobs,
    rounds: sampling.throughputRounds,
    redisPid: await localRedisPid(6379),
  };
  progress(
    `distributed throughput: ${sampling.throughputJobs.toLocaleString('en-US')} no-op steps, ${sampling.throughputWorkers} worker processes × ${sampling.throughputConcurrency} each, bare BullMQ and fastroai (${sampling.stores.join(', ')}), ${sampling.throughputRounds} rounds`,
  );
  const [bareThroughput, ...oursThroughput] = await measuredWith<ThroughputContender, Throughput[]>(
    [() => createBareBullmqThroughput(), ...sampling.stores.map((store) => () => createFastroaiThroughput(store, [sampling.throughputWarmupJobs, sampling.throughputJobs]))],
    (contenders) => measureThroughputs(contenders, throughputOptions),
  );

  progress(`distributed recovery: ${sampling.recoveryKills} kill -9 mid-step, bare BullMQ`);
  const bareRecovery = await measuredWith<RecoveryContender, RecoveryResult>([() => createBareBullmqRecovery()], ([contender]) =>
    measureRecovery(contender, { samples: sampling.recoveryKills }),
  );
  progress(`distributed recovery: ${sampling.recoveryKills} kill -9 mid-step, fastroai (${sampling.stores[0]})`);
  const oursRecovery = await measuredWith([() => createFastroaiRecovery(sampling.stores[0])], ([contender]) => measureRecovery(contender, { samples: sampling.recoveryKills }));

  return { chains, throughput: { bare: bareThroughput, ours: oursThroughput }, recovery: { bare: bareRecovery, ours: oursRecovery } };
}

export const DISTRIBUTED_HEADER = ['measurement', 'fastroai (shared store)', 'fastroai', 'bare BullMQ', 'fastroai ÷ bare', 'target'];
export const DISTRIBUTED_ALIGN_RIGHT = [false, false, true, true, true, false];

/** The rows of the "Distributed runs" table. */
export function buildDistributedRows(results: DistributedResults): string[][] {
  const rows: string[][] = [];
  const ms = (us: number) => `${formatNumber(us / 1000)} ms/step`;
  for (const { workers, bare, ours } of results.chains) {
    for (const row of ours) {
      const ratio = row.ratioToFirst;
      rows.push([
        `chain latency, ${row.steps} steps, ${workers} worker process${workers === 1 ? '' : 'es'}`,
        storeOf(row.contender),
        ms(row.perStepUs),
        ms(bare.perStepUs),
        `${formatNumber(ratio)}×${ratio <= 1.5 ? '' : ' (missed)'}`,
        '≤ 1.5×',
      ]);
    }
  }
  const { bare, ours } = results.throughput;
  for (const row of ours) {
    const share = 100 * row.shareOfFirst;
    rows.push([
      `throughput, ${row.jobs.toLocaleString('en-US')} independent no-op steps, ${row.workers} worker processes × concurrency ${row.concurrency}`,
      storeOf(row.contender),
      `${formatNumber(row.jobsPerSecond)} steps/s`,
      `${formatNumber(bare.jobsPerSecond)} jobs/s`,
      `${formatNumber(share)} %${share >= 70 ? '' : ' (missed)'}`,
      '≥ 70 %',
    ]);
  }
  const recovery = results.recovery;
  rows.push([
    `recovery after kill -9 mid-step (lockDuration ${recovery.ours.lockDurationMs / 1000} s, stalledInterval ${recovery.ours.stalledIntervalMs / 1000} s): picked up by the other worker, median of ${recovery.ours.samples.length}`,
    storeOf(recovery.ours.contender),
    `${formatNumber(recovery.ours.medianPickedUpAfterMs / 1000)} s`,
    `${formatNumber(recovery.bare.medianPickedUpAfterMs / 1000)} s`,
    `${formatNumber(recovery.ours.medianPickedUpAfterMs / recovery.bare.medianPickedUpAfterMs)}×`,
    `≤ ${(recovery.ours.lockDurationMs + 2 * recovery.ours.stalledIntervalMs) / 1000} s (lockDuration + 2 × stalledInterval)`,
  ]);
  return rows;
}

/** "fastroai (SQLite file)" → "SQLite file". */
function storeOf(contender: string): string {
  return /\((.*)\)/.exec(contender)?.[1] ?? contender;
}

/** The notes under the table. */
export function distributedNotes(results: DistributedResults, sampling: DistributedSampling, seconds: number, load?: { before: string; after: string }): string[] {
  const cores = availableParallelism();
  // The PostgreSQL server's CPU is shown on the row whose store it is (on the others it idles).
  const cpuOf = ({ contender, cpuPerStepUs: cpu, seconds, jobs }: Throughput) => {
    const us = (value: number | undefined) => (value === undefined ? '?' : formatNumber(value));
    const parts = [cpu.workers, cpu.caller, cpu.redis, ...(contender.includes('PostgreSQL') ? [cpu.postgres] : [])];
    const sum = parts.map(us).join(' + ');
    if (parts.some((part) => part === undefined)) return sum;
    const total = parts.reduce((a = 0, b = 0) => a + b, 0)!;
    const busy = (100 * total) / (((seconds * 1e6) / jobs) * cores);
    return `${sum} = ${formatNumber(total)} (the ${cores} cores ${formatNumber(busy)} % busy)`;
  };
  const roundSeconds = (row: Throughput) => row.roundSeconds.map((seconds) => seconds.toFixed(2)).join(', ');
  const chainSamples = (row: ChainLatency) => row.samplesUs.map((us) => formatNumber(us / 1000)).join(', ');
  const each = (result: RecoveryResult) =>
    result.samples.map((sample) => `${formatNumber(sample.pickedUpAfterMs / 1000)} / ${formatNumber(sample.completedAfterMs / 1000)} s (${sample.starts} starts)`).join(', ');
  return [
    `- Worker processes are real child processes (\`node\` + ts-node, transpile-only), the same count and concurrency for both contenders; the caller is this process, on the local Redis under a private key prefix (deleted after). fastroai: one \`pipeline.execute\` per chain or batch with \`QueueRunner\` and a store the caller and each worker open on their own (a SQLite file in a temporary directory, WAL; a private key prefix on the Redis BullMQ uses, as workers on several machines would share it; a private PostgreSQL schema), workers from \`createStepWorker\` (default lock settings), no-op steps returning their index, each recorded by its worker. Bare BullMQ ${packageVersion('bullmq')}: a \`Worker\` with a no-op processor, nothing stored.`,
    `- Chain latency: the bare chain adds each job when QueueEvents tells the previous one completed; ours runs a ${sampling.chainSteps}-step chain pipeline (the caller enqueues each step once the store has its dependency's record). All contenders' workers are up together (idle workers block on Redis); each round times one chain of every contender, in an order that rotates from round to round. ms/step = chain time ÷ steps, median of ${sampling.chainSamples} rounds after ${sampling.chainWarmupRuns} warm-up chain(s) each; "fastroai ÷ bare" is the median of the per-round ratios. Samples, in round order (ms/step): ${results.chains
      .map(({ workers, bare, ours }) => `${workers} worker(s): bare ${chainSamples(bare)}; ${ours.map((row) => `${storeOf(row.contender)} ${chainSamples(row)}`).join('; ')}`)
      .join(' — ')}.`,
    `- Throughput: the bare contender adds ${sampling.throughputJobs.toLocaleString('en-US')} jobs with \`addBulk\` and polls the completed count; ours runs one pipeline of ${sampling.throughputJobs.toLocaleString('en-US')} independent steps. From the first enqueue to the last completion, after a warm-up of ${sampling.throughputWarmupJobs} jobs / steps each; all contenders' workers up together, ${sampling.throughputRounds} round(s) in rotating order, the median round shown and the share as the median of the per-round shares. Seconds per round: bare ${roundSeconds(results.throughput.bare)}; ${results.throughput.ours.map((row) => `${storeOf(row.contender)} ${roundSeconds(row)}`).join('; ')}. CPU per step (µs; the worker processes, this caller process, the Redis server, and on the PostgreSQL row the PostgreSQL server's processes): ${[results.throughput.bare, ...results.throughput.ours].map((row) => `${row === results.throughput.bare ? 'bare' : storeOf(row.contender)} ${cpuOf(row)}`).join('; ')}.`,
    `- Recovery: two fresh workers per kill; a step that holds 3 s starts on one, which is killed (SIGKILL) 0.5 s later; time from the kill until the other worker starts the step (BullMQ's stalled-job check, both contenders), and until the step (our run) completed. Only ${sampling.recoveryKills} kill(s) per contender, each waiting out a lock of ${results.recovery.ours.lockDurationMs / 1000} s, to keep the bench short. Each kill, picked up / completed: bare ${each(results.recovery.bare)}; fastroai ${each(results.recovery.ours)}.`,
    `- This part took ${formatNumber(seconds)} s${load === undefined ? '' : `; load average ${load.before} when it started, ${load.after} when it ended`}.`,
  ];
}

function packageVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const sampling = distributedSampling(args.has('--quick'), args.has('--no-postgres') ? ['sqlite', 'redis'] : ['sqlite', 'redis', 'postgres', 'postgres-push']);
  const started = performance.now();
  const results = await measureDistributed(sampling, (message) => process.stderr.write(`${message}\n`));
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${[formatTable(DISTRIBUTED_HEADER, buildDistributedRows(results), DISTRIBUTED_ALIGN_RIGHT), '', ...distributedNotes(results, sampling, seconds)].join('\n')}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
