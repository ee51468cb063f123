/**
 * Recovery time after a worker is killed (issue 10's "recovery time" row): two worker CHILD
 * processes with lockDuration 10 s and stalledInterval 5 s; a job that takes a few seconds
 * starts on one of them, which is killed with SIGKILL mid-job; the time from the kill until the
 * other worker starts the same job, and until the job completes. The bare BullMQ contender
 * relies on BullMQ's stalled-job check; ours (createStepWorker) plugs into the same harness as
 * another {@link RecoveryContender} whose workers print the same `started` lines.
 *
 *   npx ts-node -T -r tsconfig-paths/register bench/bare-bullmq-recovery.ts [--samples 3]
 *
 * Needs the local Redis (127.0.0.1:6379); everything runs under a unique key prefix, deleted after.
 */
import { join } from 'node:path';
import { Job } from 'bullmq';
import { openBenchQueue } from './bullmq-bench-queue';
import { formatNumber, formatTable } from './format-table';
import { median } from './sample-stats';
import { startWorkerProcesses, type WorkerEvent, type WorkerProcesses } from './worker-processes';

/** Lock settings of the workers, in ms. */
export interface LockSettings {
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/** Something whose workers can be killed mid-job: bare BullMQ, or ours. */
export interface RecoveryContender {
  name: string;
  /** Starts `count` worker processes with these lock settings; they print `started` lines for held jobs. */
  startWorkers(count: number, locks: LockSettings): Promise<WorkerProcesses>;
  /** Enqueues one job that holds for `holdMs` (and reports its start); resolves with its job id. */
  enqueueHeldJob(holdMs: number): Promise<string>;
  /** Resolves when the job has completed. */
  waitForCompletion(jobId: string): Promise<void>;
  close(): Promise<void>;
}

/** One kill: when the job was picked up again, and when it completed, in ms after the kill. */
export interface RecoverySample {
  pickedUpAfterMs: number;
  completedAfterMs: number;
  /** How many times the job's body started (2: at-least-once, the killed attempt and the next). */
  starts: number;
}

export interface RecoveryResult extends LockSettings {
  contender: string;
  samples: RecoverySample[];
  medianPickedUpAfterMs: number;
}

/** Options of {@link measureRecovery}. */
export interface RecoveryOptions extends Partial<LockSettings> {
  /** Kills. @default 3 */
  samples?: number;
  /** How long the job's body runs. @default 3_000 */
  holdMs?: number;
  /** How long after the job started the worker is killed. @default 500 */
  killAfterMs?: number;
}

/** Kills a worker mid-job `samples` times (fresh workers each time) and times the recovery. */
export async function measureRecovery(contender: RecoveryContender, options: RecoveryOptions = {}): Promise<RecoveryResult> {
  const locks: LockSettings = { lockDurationMs: options.lockDurationMs ?? 10_000, stalledIntervalMs: options.stalledIntervalMs ?? 5_000 };
  const holdMs = options.holdMs ?? 3_000;
  // A generous bound: BullMQ promises a pick-up within lockDuration + 2 × stalledInterval.
  const patienceMs = 3 * (locks.lockDurationMs + 2 * locks.stalledIntervalMs) + holdMs;
  const samples: RecoverySample[] = [];
  for (let i = 0; i < (options.samples ?? 3); i++) {
    const workers = await contender.startWorkers(2, locks);
    try {
      let starts = 0;
      let jobId = '';
      workers.events.on('started', (line: WorkerEvent) => {
        if (line.jobId === jobId) starts++;
      });
      const firstStart = workers.next('started', (line) => line.jobId === jobId, patienceMs);
      jobId = await contender.enqueueHeldJob(holdMs);
      const first = await firstStart;
      await new Promise((resolve) => setTimeout(resolve, options.killAfterMs ?? 500));
      const victim = workers.children.find((child) => child.pid === first.pid)!;
      const pickedUp = workers.next('started', (line) => line.jobId === jobId && line.pid !== first.pid, patienceMs);
      victim.kill('SIGKILL');
      const killedAt = performance.now();
      await pickedUp;
      const pickedUpAfterMs = performance.now() - killedAt;
      await contender.waitForCompletion(jobId);
      samples.push({ pickedUpAfterMs, completedAfterMs: performance.now() - killedAt, starts });
    } finally {
      await workers.stop();
    }
  }
  return { contender: contender.name, ...locks, samples, medianPickedUpAfterMs: median(samples.map((sample) => sample.pickedUpAfterMs)) };
}

/** Bare BullMQ: its own stalled-job check hands the job to the other worker. */
export async function createBareBullmqRecovery(redisPort = 6379): Promise<RecoveryContender> {
  const bench = await openBenchQueue(redisPort);
  let held = 0;
  return {
    name: 'bare BullMQ',
    startWorkers: (count, locks) =>
      startWorkerProcesses({
        script: join(__dirname, 'bare-bullmq-worker.ts'),
        count,
        env: { ...bench.workerEnv, BENCH_LOCK_DURATION_MS: String(locks.lockDurationMs), BENCH_STALLED_INTERVAL_MS: String(locks.stalledIntervalMs) },
      }),
    enqueueHeldJob: async (holdMs) => {
      const jobId = `held${++held}`;
      await bench.queue.add('held', { holdMs, report: true }, { jobId });
      return jobId;
    },
    waitForCompletion: async (jobId) => {
      for (;;) {
        const state = await (await Job.fromId(bench.queue, jobId))?.getState();
        if (state === 'completed') return;
        if (state === 'failed') throw new Error(`job ${jobId} failed`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => bench.close(),
  };
}

export function recoveryTable(rows: RecoveryResult[]): string {
  return formatTable(
    ['contender', 'lockDuration / stalledInterval', 'picked up after kill -9 (s, median)', 'each kill: picked up / completed (s)', 'job body starts'],
    rows.map((row) => [
      row.contender,
      `${row.lockDurationMs / 1000} s / ${row.stalledIntervalMs / 1000} s`,
      formatNumber(row.medianPickedUpAfterMs / 1000),
      row.samples.map((sample) => `${formatNumber(sample.pickedUpAfterMs / 1000)} / ${formatNumber(sample.completedAfterMs / 1000)}`).join(', '),
      row.samples.map((sample) => String(sample.starts)).join(', '),
    ]),
    [false, false, true, false, false],
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const samples = args.includes('--samples') ? Number(args[args.indexOf('--samples') + 1]) : 3;
  const contender = await createBareBullmqRecovery();
  try {
    process.stderr.write(`bare BullMQ recovery: ${samples} kills, lockDuration 10 s, stalledInterval 5 s\n`);
    console.log(recoveryTable([await measureRecovery(contender, { samples })]));
  } finally {
    await contender.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
