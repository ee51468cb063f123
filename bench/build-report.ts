import { formatNumber } from './format-table';
import type { MakespanRatios, MakespanResult } from './measure-makespan';
import type { MemoryResult } from './measure-memory';
import type { LangGraphOverhead, OverheadResult } from './measure-overhead';
import { median } from './sample-stats';

/** The table's columns. */
export const REPORT_HEADER = [
  'Case',
  'Metric',
  'Minimal scheduler',
  'fastroai `execute`',
  'fastroai `run()`',
  'LangGraph.js',
  'LangGraph.js ÷ fastroai',
  'Target',
] as const;

/** Which columns hold numbers (right-aligned). */
export const REPORT_ALIGN_RIGHT = [false, false, true, true, true, true, true, false];

const NONE = '—';

/**
 * An overhead case measured twice: in a process where no async hook is on yet, and again with
 * an `AsyncLocalStorage` on (as OpenTelemetry's context manager and LangGraph.js turn on: every
 * promise then pays a hook); and LangGraph's numbers on the same DAG, if it ran there.
 */
export interface OverheadRow {
  engine: OverheadResult;
  withHooks: OverheadResult | undefined;
  langGraph: LangGraphOverhead | undefined;
}

/**
 * Two rows per no-op DAG (without, then with async hooks): µs per step, engine ÷ minimal, and
 * on the second LangGraph ÷ engine `execute` (LangGraph.js runs with its AsyncLocalStorage on).
 */
export function overheadRows(rows: readonly OverheadRow[]): string[][] {
  return rows.flatMap(({ engine, withHooks, langGraph }) => {
    let langGraphCell = NONE;
    let versusCell = NONE;
    const reference = withHooks ?? engine;
    if (langGraph?.measured) {
      langGraphCell = formatNumber(langGraph.perStep.medianUs);
      versusCell = `${formatNumber(langGraph.perStep.medianUs / reference.execute.medianUs)}×`;
    } else if (langGraph !== undefined) {
      langGraphCell = 'not run (see notes)';
    }
    const row = (result: OverheadResult, label: string, langGraphCells: [string, string]) => [
      `${result.name}, ${result.steps.toLocaleString('en-US')} ${result.stepLabel} steps${label}`,
      'µs/step (× minimal)',
      formatNumber(result.minimal.medianUs),
      `${formatNumber(result.execute.medianUs)} (${formatNumber(result.executeRatio)}×)`,
      `${formatNumber(result.stream.medianUs)} (${formatNumber(result.streamRatio)}×)`,
      ...langGraphCells,
      'execute ≤ 2×, run() ≤ 2.5×; LangGraph ≥ 100×',
    ];
    if (withHooks === undefined) return [row(engine, '', [langGraphCell, versusCell])];
    return [row(engine, '', [NONE, NONE]), row(withHooks, ', AsyncLocalStorage on', [langGraphCell, versusCell])];
  });
}

/** The CPU-time ratios of the no-op rows, in table order, for the notes. */
export function overheadCpuRatios(rows: readonly OverheadRow[], which: 'executeCpuRatio' | 'streamCpuRatio'): string {
  return rows
    .flatMap(({ engine, withHooks }) => (withHooks === undefined ? [engine] : [engine, withHooks]))
    .map((result) => `${formatNumber(result[which])}×`)
    .join(', ');
}

/**
 * Two rows per kind of sleeping DAG: makespan over the nominal critical path, and over the
 * critical path of the sleeps as measured. Random DAGs: median over DAGs, worst in brackets.
 */
export function makespanRows(skewed: MakespanResult, randoms: readonly MakespanResult[]): string[][] {
  const ratio = (value: number) => formatNumber(value, 4);
  const metrics: Array<[string, (ratios: MakespanRatios) => number]> = [
    ['makespan ÷ critical path', (ratios) => ratios.nominal],
    ['makespan ÷ critical path of measured sleeps', (ratios) => ratios.measured],
  ];
  const rows: string[][] = [];
  for (const [metric, pick] of metrics) {
    rows.push([
      skewed.name,
      metric,
      ratio(pick(skewed.minimal)),
      ratio(pick(skewed.engine)),
      NONE,
      ratio(pick(skewed.langGraph)),
      `${formatNumber(pick(skewed.langGraph) / pick(skewed.engine))}×`,
      '≤ 1.02',
    ]);
  }
  const pathsMs = randoms.map((result) => result.criticalPathMs);
  const summary = (values: number[]) => `${ratio(median(values))} [${ratio(Math.max(...values))}]`;
  for (const [metric, pick] of metrics) {
    rows.push([
      `${randoms.length} random ${randoms[0].steps}-step DAGs, 5–40 ms sleeps (critical paths ${Math.min(...pathsMs)}–${Math.max(...pathsMs)} ms)`,
      `${metric}: median [worst]`,
      summary(randoms.map((result) => pick(result.minimal))),
      summary(randoms.map((result) => pick(result.engine))),
      NONE,
      summary(randoms.map((result) => pick(result.langGraph))),
      `${formatNumber(median(randoms.map((result) => pick(result.langGraph) / pick(result.engine))))}×`,
      '≤ 1.02',
    ]);
  }
  return rows;
}

/** Rows of heap bytes per step on the large DAG. */
export function memoryRows(name: string, memory: MemoryResult): string[][] {
  const row = (metric: string, bytes: number): string[] => [
    `${name}, ${memory.steps.toLocaleString('en-US')} no-op steps`,
    metric,
    NONE,
    formatNumber(bytes),
    NONE,
    NONE,
    NONE,
    NONE,
  ];
  return [
    row('heap bytes/step: the options (`step(fn)` + deps)', memory.definitionBytesPerStep),
    row('heap bytes/step: the built `Pipeline`', memory.pipelineBytesPerStep),
    row('heap bytes/step: a run, at its peak', memory.peakRunBytesPerStep),
    row('heap bytes/step: a run’s result, kept', memory.resultBytesPerStep),
  ];
}

/** Everything the table shows. */
export interface BenchResults {
  overheads: readonly OverheadRow[];
  skewed: MakespanResult;
  randoms: readonly MakespanResult[];
  memory: MemoryResult;
}

/** The table's rows: no-op overhead, makespans, memory. */
export function buildReportRows(results: BenchResults): string[][] {
  return [
    ...overheadRows(results.overheads),
    ...makespanRows(results.skewed, results.randoms),
    ...memoryRows('random DAG', results.memory),
  ];
}
