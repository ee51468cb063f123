/**
 * `npm run bench`: the engine against a minimal hand-written scheduler and LangGraph.js, on the
 * same DAGs, in one process. Prints one markdown table (stdout) and progress (stderr).
 *
 *   npm run bench                      # a few minutes
 *   npm run bench -- --langgraph-10k   # also LangGraph.js on the 10,000-step DAGs (~1 min per run)
 *   npm run bench -- --quick           # fewer samples, for a smoke test
 *   npm run bench -- --no-durable      # without the "Durable runs" table (run stores, checkpointers, resume; ~1.5 min)
 *   npm run bench -- --no-distributed  # without the "Distributed runs" table (worker processes on BullMQ; a few minutes)
 *
 * The durable and distributed rows need the local Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, `test`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import events from 'node:events';
import { buildDurableRows, DURABLE_ALIGN_RIGHT, DURABLE_HEADER } from './build-durable-report';
import { buildReportRows, overheadCpuRatios, REPORT_ALIGN_RIGHT, REPORT_HEADER, type OverheadRow } from './build-report';
import { describeLoad, describeMachine } from './describe-machine';
import { formatNumber, formatTable } from './format-table';
import { measureDurable, type DurableResults } from './measure-durable';
import {
  buildDistributedRows,
  DISTRIBUTED_ALIGN_RIGHT,
  DISTRIBUTED_HEADER,
  distributedNotes,
  distributedSampling,
  measureDistributed,
  type DistributedResults,
} from './measure-distributed';
import { measureMakespan, type MakespanResult } from './measure-makespan';
import { measureMemory } from './measure-memory';
import { asyncNoOpStep, measureLangGraphOverhead, measureOverhead, type LangGraphOverhead, type OverheadCase } from './measure-overhead';
import { chainDag, randomDag, randomSleepingDag, skewedDag } from './random-dag';
import { median } from './sample-stats';
import { verifyAdapters } from './verify-adapters';

// LangGraph adds an abort listener per task to its run's signal; Node warns past 10 listeners.
events.defaultMaxListeners = 0;

const LANGGRAPH_LIMIT_MS = 60_000;

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const quick = args.has('--quick');
  const langGraphAt10k = args.has('--langgraph-10k');
  const durable = !args.has('--no-durable');
  const distributed = !args.has('--no-distributed');
  const scale = (count: number) => (quick ? Math.max(1, Math.ceil(count / 5)) : count);
  const startedMs = performance.now();
  const loadBefore = describeLoad();
  const progress = (message: string) => process.stderr.write(`[bench ${((performance.now() - startedMs) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);

  const checksumDags = [randomDag(300, 7), randomDag(200, 8, 8, 20), skewedDag().dependencies];
  progress('checking that the engine and the minimal scheduler agree on checksum DAGs');
  for (const dag of checksumDags) await verifyAdapters(dag, ['minimal scheduler', 'fastroai execute']);

  const small = { warmupRuns: scale(50), samples: scale(80), runsPerSample: 20 };
  const large = { warmupRuns: scale(10), samples: scale(80), runsPerSample: 2 };
  const cases: Array<OverheadCase & { langGraphByDefault: boolean }> = [
    { name: 'random DAG', dependencies: randomDag(1_000, 1), ...small, langGraphByDefault: true },
    { name: 'random DAG', dependencies: randomDag(10_000, 2), ...large, langGraphByDefault: false },
    { name: 'chain', dependencies: chainDag(1_000), ...small, langGraphByDefault: true },
    { name: 'chain', dependencies: chainDag(10_000), ...large, langGraphByDefault: false },
    // The same with async steps: a promise per step for every scheduler (the engine ends a
    // synchronous step without one). LangGraph.js awaits every node anyway: not repeated.
    { name: 'random DAG', dependencies: randomDag(10_000, 2), ...large, stepFn: asyncNoOpStep, stepLabel: 'async no-op', langGraphByDefault: false },
    { name: 'chain', dependencies: chainDag(10_000), ...large, stepFn: asyncNoOpStep, stepLabel: 'async no-op', langGraphByDefault: false },
  ];
  // First in a process where no async hook is on (nothing has made an AsyncLocalStorage yet),
  // then again with one on, as OpenTelemetry's context manager or LangGraph.js turn on for the
  // rest of a process: every promise then pays a hook, the minimal scheduler's two per step too.
  const overheads: OverheadRow[] = [];
  for (const testCase of cases) {
    progress(`no-op overhead: ${testCase.name}, ${testCase.dependencies.length} steps (engine, run(), minimal)`);
    overheads.push({ engine: await measureOverhead(testCase), withHooks: undefined, langGraph: undefined });
  }
  // One AsyncLocalStorage of the bench's own, let go after: Node 20 runs each one's propagation
  // for every promise, so the rest of the bench meets only LangGraph.js's, as before.
  const storage = new AsyncLocalStorage<string>();
  storage.enterWith('bench');
  for (const [k, testCase] of cases.entries()) {
    progress(`no-op overhead with AsyncLocalStorage on: ${testCase.name}, ${testCase.dependencies.length} steps (engine, run(), minimal)`);
    overheads[k].withHooks = await measureOverhead(testCase);
  }
  storage.disable();
  progress('checking that LangGraph.js agrees on the checksum DAGs (it turns async hooks on for the rest of the bench)');
  for (const dag of checksumDags) await verifyAdapters(dag, ['LangGraph.js']);

  progress('memory: 100,000-step random DAG');
  const memory = await measureMemory(randomDag(100_000, 3));

  progress('makespan: skewed DAG');
  const skewed = await measureMakespan(skewedDag(), scale(7));
  const randoms: MakespanResult[] = [];
  for (let seed = 1; seed <= 6; seed++) {
    progress(`makespan: random 60-step DAG #${seed}`);
    randoms.push(await measureMakespan(randomSleepingDag(60, seed, 5, 40), scale(5)));
  }

  const compileNotes: string[] = [];
  const notRun = new Map<string, string[]>();
  for (let k = 0; k < cases.length; k++) {
    const testCase = cases[k];
    const steps = testCase.dependencies.length;
    let langGraph: LangGraphOverhead;
    if (testCase.stepFn !== undefined) {
      langGraph = { measured: false, steps, reason: 'not repeated with async steps (LangGraph.js awaits every node either way)' };
    } else if (testCase.langGraphByDefault || langGraphAt10k) {
      progress(`LangGraph.js no-op overhead: ${testCase.name}, ${steps} steps`);
      const runs = steps > 1_000 ? { warmupRuns: 0, timedRuns: 1 } : { warmupRuns: 1, timedRuns: scale(5) };
      langGraph = await measureLangGraphOverhead(testCase.dependencies, { ...runs, limitMs: LANGGRAPH_LIMIT_MS });
      if (langGraph.measured) compileNotes.push(`${testCase.name} ${steps.toLocaleString('en-US')}: ${formatNumber(langGraph.compileMs)} ms`);
    } else {
      langGraph = {
        measured: false,
        steps,
        reason: 'skipped by default, as its time per step grows with the graph: about a minute per run (`npm run bench -- --langgraph-10k` runs them)',
      };
    }
    if (!langGraph.measured) notRun.set(langGraph.reason, [...(notRun.get(langGraph.reason) ?? []), `${testCase.name} ${steps.toLocaleString('en-US')}`]);
    overheads[k].langGraph = langGraph;
  }

  let durableResults: DurableResults | undefined;
  const durableSampling = { storeSamples: scale(8), langGraphSamples: scale(4), langGraphWarmupRuns: 1, resumeSamples: scale(11), warmupRuns: quick ? 1 : 2 };
  const durableLoad = { before: describeLoad(), after: '' };
  const durableStartedMs = performance.now();
  if (durable) {
    durableResults = await measureDurable(durableSampling, progress);
    durableLoad.after = describeLoad();
  }
  const durableSeconds = (performance.now() - durableStartedMs) / 1000;

  let distributedResults: DistributedResults | undefined;
  const distributedSettings = distributedSampling(quick, ['sqlite', 'redis', 'postgres', 'postgres-push']);
  const distributedLoad = { before: describeLoad(), after: '' };
  const distributedStartedMs = performance.now();
  if (distributed) {
    distributedResults = await measureDistributed(distributedSettings, progress);
    distributedLoad.after = describeLoad();
  }
  const distributedSeconds = (performance.now() - distributedStartedMs) / 1000;

  const table = formatTable(REPORT_HEADER, buildReportRows({ overheads, skewed, randoms, memory }), REPORT_ALIGN_RIGHT);
  const lines = [
    `Machine: ${describeMachine()}. Load average ${loadBefore} at the start, ${describeLoad()} at the end.`,
    '',
    table,
    '',
    `- No-op rows: per-step time = run time ÷ steps, building the pipeline not included. Each contender is warmed up, then sampled in rounds that rotate their order; a sample is ${small.runsPerSample} (1,000 steps) or ${large.runsPerSample} (10,000 steps) back-to-back runs; one full GC per case, none between samples (each pays for its own garbage). Medians of ${small.samples} samples; "× minimal" is the median of the per-round ratios. In process CPU time instead of wall time, \`execute\` ÷ minimal is ${overheadCpuRatios(overheads, 'executeCpuRatio')} and \`run()\` ÷ minimal ${overheadCpuRatios(overheads, 'streamCpuRatio')} (same row order). \`run()\` has a subscriber receiving every event.`,
    `- "AsyncLocalStorage on": the same cases measured again in the same process once an \`AsyncLocalStorage\` holds a value, as OpenTelemetry's context manager or LangGraph.js's runs leave it: Node 20 then runs a hook for every promise made, the minimal scheduler's two per step included. The rows above them are measured first, before anything turned hooks on; the bench lets its AsyncLocalStorage go after these rows, then checks LangGraph.js, whose own stays on for the rest of the bench (the memory and sleeping rows, the durable and distributed tables). LangGraph.js always runs with its hooks on: its ratio is taken against the "AsyncLocalStorage on" rows.`,
    `- Sleeping rows: wall time of one run ÷ the critical path computed from the graph and the sleeps; median of ${scale(7)} (skewed) / ${scale(5)} (random) runs after a warm-up. The minimal scheduler shows the floor set by \`setTimeout\`, which fires late, never early. "Of measured sleeps": ÷ the critical path of each step's sleep as it ran (its own start to end), which leaves only the scheduler's delays. Level by level (the Python original's gather per level) would take ${formatNumber(skewed.levelByLevelRatio)}× on the skewed DAG and ${formatNumber(median(randoms.map((result) => result.levelByLevelRatio)))}× (median) on the random ones.`,
    `- LangGraph.js ${packageVersion('@langchain/langgraph')} (\`@langchain/core\` ${packageVersion('@langchain/core')}): a \`StateGraph\` node per step, a join edge \`addEdge([deps], step)\` for several dependencies (runs the step once, after all of them), outputs merged into one state record in place, \`recursionLimit\` = steps + 10. Compiling not timed${compileNotes.length > 0 ? ` (${compileNotes.join('; ')})` : ''}. Runs over ${LANGGRAPH_LIMIT_MS / 1000} s are aborted.${[...notRun].map(([reason, names]) => ` Not run on ${names.join(' and ')}: ${reason}.`).join('')}`,
    `- Memory: V8 heapUsed after a full GC at each stage, ÷ steps; the run itself took ${formatNumber(memory.runUsPerStep)} µs per step (one cold run).`,
    `- Whole bench: ${formatNumber((performance.now() - startedMs) / 1000)} s.`,
  ];
  if (durableResults !== undefined) lines.push('', ...durableLines(durableResults, durableSampling, durableLoad, durableSeconds));
  if (distributedResults !== undefined) {
    lines.push(
      '',
      '**Distributed runs**',
      '',
      formatTable(DISTRIBUTED_HEADER, buildDistributedRows(distributedResults), DISTRIBUTED_ALIGN_RIGHT),
      '',
      ...distributedNotes(distributedResults, distributedSettings, distributedSeconds, distributedLoad),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The "Durable runs" table and its notes. */
function durableLines(
  results: DurableResults,
  sampling: { storeSamples: number; langGraphSamples: number; langGraphWarmupRuns: number; resumeSamples: number; warmupRuns: number },
  load: { before: string; after: string },
  seconds: number,
): string[] {
  const batches = (name: string) => {
    const sizes = results.stores.find((result) => result.name === name)?.batchSizes ?? [];
    return sizes.length > 5 ? `${sizes.length} calls` : sizes.join(' + ');
  };
  const [chainResume] = results.resumes;
  return [
    '**Durable runs**',
    '',
    formatTable(DURABLE_HEADER, buildDurableRows(results), DURABLE_ALIGN_RIGHT),
    '',
    `- Every step returns its index: a no-op with a few bytes of output to record. A run is one \`pipeline.execute\` with the store; the stores are real: a SQLite file in a temporary directory (WAL, \`synchronous = NORMAL\`), the local Redis under a private key prefix, the local PostgreSQL in a private schema. µs/step = run time ÷ steps. Each contender is warmed up (${sampling.warmupRuns} runs; LangGraph rows ${sampling.langGraphWarmupRuns}), then sampled once per round in an order that rotates from round to round (a sample of no store or MemoryRunStore is 20 back-to-back runs, of the others one run); medians of ${sampling.storeSamples} rounds (store rows), ${sampling.langGraphSamples} (LangGraph rows); a ratio is the median of the per-round ratios. Load average ${load.before} when this part started, ${load.after} when it ended (${formatNumber(seconds)} s).`,
    `- Floors: the very records the engine wrote for that DAG (captured once), written again with the driver alone, in the same batches, each awaited as the engine awaits its writes: on the chain one write per record; on the fan-out the engine's batches (${batches('fan-out')} records), as one transaction (SQLite), one EVALSHA of all the HSETs (Redis), one multi-row INSERT (PostgreSQL). \`recordSteps\` calls are counted by a proxy around the store in one more run (untimed; timed runs use the store directly); the run's other store calls (create, lease, status) are not counted.`,
    `- LangGraph.js rows: the same DAGs as \`StateGraph\`s compiled with a checkpointer (\`MemorySaver\`; \`SqliteSaver\` ${packageVersion('@langchain/langgraph-checkpoint-sqlite')} on a file of its own; \`PostgresSaver\` ${packageVersion('@langchain/langgraph-checkpoint-postgres')} after \`setup()\`, in a private schema), a new thread per run; the chain has ${results.langGraphChainSteps} steps, not 1,000, as LangGraph's checkpoint grows with the run (its time and bytes per step would grow fivefold). Ratio: LangGraph ÷ fastroai with the same kind of storage. Stored bytes: of one run, ÷ steps; in brackets the same on a chain half as long: a flat number grows with each step's output, a number that doubles grows with the run. Counted for fastroai as its run and step rows (SQLite: every column's \`length\` as a BLOB; PostgreSQL: \`pg_column_size\` of the rows; MemoryRunStore: the records as JSON), for LangGraph as its thread's rows in \`checkpoints\` + \`writes\` (SQLite: the same \`length\` sum), \`checkpoints\` + \`checkpoint_blobs\` + \`checkpoint_writes\` (PostgreSQL: \`pg_column_size\`), and MemorySaver's serialized checkpoints, metadata and writes.`,
    chainResume === undefined
      ? ''
      : `- Resume rows: a store proxy stops answering after ${chainResume.crashAfter} records are acknowledged (step ${chainResume.crashAfter} ran but is not recorded, nothing else is written, the lease is not renewed): the run is abandoned as a dead process's, and once its short lease (0.2 s) lapsed, \`pipeline.resume(runId)\` (timed) loads the ${chainResume.crashAfter} records and runs the last ${chainResume.steps - chainResume.crashAfter} steps; against a fresh ${chainResume.steps - chainResume.crashAfter}-step chain on the same store. µs per re-run step; medians of ${sampling.resumeSamples} alternating pairs after ${sampling.warmupRuns} warm-up pairs.`,
  ];
}

function packageVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
