/**
 * `npm run bench`: the engine against a minimal hand-written scheduler and LangGraph.js, on the
 * same DAGs, in one process. Prints one markdown table (stdout) and progress (stderr).
 *
 *   npm run bench                      # a few minutes
 *   npm run bench -- --langgraph-10k   # also LangGraph.js on the 10,000-step DAGs (~1 min per run)
 *   npm run bench -- --quick           # fewer samples, for a smoke test
 */
import events from 'node:events';
import { buildReportRows, REPORT_ALIGN_RIGHT, REPORT_HEADER, type OverheadRow } from './build-report';
import { describeLoad, describeMachine } from './describe-machine';
import { formatNumber, formatTable } from './format-table';
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
  const scale = (count: number) => (quick ? Math.max(1, Math.ceil(count / 5)) : count);
  const startedMs = performance.now();
  const loadBefore = describeLoad();
  const progress = (message: string) => process.stderr.write(`[bench ${((performance.now() - startedMs) / 1000).toFixed(0).padStart(3)} s] ${message}\n`);

  progress('checking that the three schedulers agree on checksum DAGs');
  await verifyAdapters(randomDag(300, 7));
  await verifyAdapters(randomDag(200, 8, 8, 20));
  await verifyAdapters(skewedDag().dependencies);

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
  const overheads: OverheadRow[] = [];
  for (const testCase of cases) {
    progress(`no-op overhead: ${testCase.name}, ${testCase.dependencies.length} steps (engine, run(), minimal)`);
    overheads.push({ engine: await measureOverhead(testCase), langGraph: undefined });
  }

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

  const table = formatTable(REPORT_HEADER, buildReportRows({ overheads, skewed, randoms, memory }), REPORT_ALIGN_RIGHT);
  const lines = [
    `Machine: ${describeMachine()}. Load average ${loadBefore} at the start, ${describeLoad()} at the end.`,
    '',
    table,
    '',
    `- No-op rows: per-step time = run time ÷ steps, building the pipeline not included. Each contender is warmed up, then sampled in rounds that rotate their order; a sample is ${small.runsPerSample} (1,000 steps) or ${large.runsPerSample} (10,000 steps) back-to-back runs; one full GC per case, none between samples (each pays for its own garbage). Medians of ${small.samples} samples; "× minimal" is the median of the per-round ratios. In process CPU time instead of wall time, \`execute\` ÷ minimal is ${overheads.map(({ engine }) => `${formatNumber(engine.executeCpuRatio)}×`).join(', ')} and \`run()\` ÷ minimal ${overheads.map(({ engine }) => `${formatNumber(engine.streamCpuRatio)}×`).join(', ')} (same row order). \`run()\` has a subscriber receiving every event.`,
    `- Sleeping rows: wall time of one run ÷ the critical path computed from the graph and the sleeps; median of ${scale(7)} (skewed) / ${scale(5)} (random) runs after a warm-up. The minimal scheduler shows the floor set by \`setTimeout\`, which fires late, never early. "Of measured sleeps": ÷ the critical path of each step's sleep as it ran (its own start to end), which leaves only the scheduler's delays. Level by level (the Python original's gather per level) would take ${formatNumber(skewed.levelByLevelRatio)}× on the skewed DAG and ${formatNumber(median(randoms.map((result) => result.levelByLevelRatio)))}× (median) on the random ones.`,
    `- LangGraph.js ${packageVersion('@langchain/langgraph')} (\`@langchain/core\` ${packageVersion('@langchain/core')}): a \`StateGraph\` node per step, a join edge \`addEdge([deps], step)\` for several dependencies (runs the step once, after all of them), outputs merged into one state record in place, \`recursionLimit\` = steps + 10. Compiling not timed${compileNotes.length > 0 ? ` (${compileNotes.join('; ')})` : ''}. Runs over ${LANGGRAPH_LIMIT_MS / 1000} s are aborted.${[...notRun].map(([reason, names]) => ` Not run on ${names.join(' and ')}: ${reason}.`).join('')}`,
    `- Memory: V8 heapUsed after a full GC at each stage, ÷ steps; the run itself took ${formatNumber(memory.runUsPerStep)} µs per step (one cold run).`,
    `- Whole bench: ${formatNumber((performance.now() - startedMs) / 1000)} s.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function packageVersion(name: string): string {
  return (require(`${name}/package.json`) as { version: string }).version;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
