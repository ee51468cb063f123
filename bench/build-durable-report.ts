import { formatNumber } from './format-table';
import type { DurableResults, LangGraphCaseResult, ResumeResult, StoreCaseResult, Timed } from './measure-durable';

/** The "Durable runs" table's columns. */
export const DURABLE_HEADER = ['Case', 'Contender', 'µs/step', 'Ratio', '`recordSteps` calls/run', 'Stored bytes/step', 'Target'] as const;

/** Which columns hold numbers (right-aligned). */
export const DURABLE_ALIGN_RIGHT = [false, false, true, true, true, true, false];

const NONE = '—';

/** How each floor writes: one record per write (chain), the engine's batches (fan-out). */
const FLOOR_OF: Record<string, { one: string; batch: string }> = {
  MemoryRunStore: { one: 'a Map write per record, each in an awaited async call', batch: 'Map writes, an awaited async call per batch' },
  SQLite: { one: 'a bare better-sqlite3 insert per record', batch: 'bare better-sqlite3 inserts, a transaction per batch' },
  Redis: { one: 'a bare EVALSHA of an HSET per record', batch: 'a bare EVALSHA of all its HSETs per batch' },
  PostgreSQL: { one: 'a bare `INSERT … ON CONFLICT DO NOTHING` per record', batch: 'a bare multi-row `INSERT … ON CONFLICT DO NOTHING` per batch' },
};

function microsPerStep(timed: Timed, steps: number): string {
  return formatNumber((timed.medianMs * 1000) / steps);
}

/** Rows 1–2: per step with each store, ratios to no store (memory) or to the bare write (servers, SQLite). */
export function storeRows(result: StoreCaseResult): string[][] {
  const caseName = `${result.name}, ${result.steps.toLocaleString('en-US')} steps`;
  const fanOut = result.name === 'fan-out';
  return result.timed.map((timed) => {
    const floorOf = timed.label.endsWith(' floor') ? timed.label.slice(0, -' floor'.length) : undefined;
    let label = timed.label;
    let ratio = NONE;
    let target = NONE;
    if (timed.label === 'MemoryRunStore') {
      ratio = `${formatNumber(timed.ratio ?? NaN)}× no store`;
      target = '≤ 3× no store';
    } else if (floorOf !== undefined) {
      label = `${floorOf} floor: ${fanOut ? FLOOR_OF[floorOf].batch : FLOOR_OF[floorOf].one}`;
    } else if (timed.ratio !== undefined) {
      ratio = `${formatNumber(timed.ratio)}× floor`;
      target = fanOut ? '≤ 15 round trips' : '≤ 2× floor';
    }
    return [caseName, label, microsPerStep(timed, result.steps), ratio, timed.recordCalls === undefined ? NONE : formatNumber(timed.recordCalls, 1), NONE, target];
  });
}

/** Row 3: fastroai with its stores and LangGraph.js with its checkpointers, time and stored bytes per step. */
export function langGraphRows(result: LangGraphCaseResult): string[][] {
  const caseName = `${result.name}, ${result.steps.toLocaleString('en-US')} steps`;
  return result.timed.map((timed) => {
    const half = result.halfBytesPerStep?.get(timed.label);
    const bytes = `${formatNumber(timed.bytesPerStep ?? NaN)}${half === undefined ? '' : ` (${formatNumber(half)} at ${result.steps / 2} steps)`}`;
    const theirs = timed.ratio !== undefined;
    return [
      caseName,
      timed.label,
      microsPerStep(timed, result.steps),
      theirs ? `${formatNumber(timed.ratio ?? NaN)}× fastroai` : NONE,
      NONE,
      bytes,
      theirs ? 'LangGraph ≥ 10× time; bytes not growing with the run' : NONE,
    ];
  });
}

/** Row 4: resuming a crashed chain, against running its unfinished tail fresh (µs per re-run step). */
export function resumeRows(result: ResumeResult): string[][] {
  const rerun = result.steps - result.crashAfter;
  const caseName = `chain, ${result.steps.toLocaleString('en-US')} steps, crashed after ${result.crashAfter} records`;
  return [
    [caseName, `${result.store}: resume to the end`, formatNumber((result.resumeMs * 1000) / rerun), `${formatNumber(result.ratio)}× fresh`, NONE, NONE, NONE],
    [caseName, `${result.store}: the last ${rerun} steps as a fresh run`, formatNumber((result.freshMs * 1000) / rerun), NONE, NONE, NONE, NONE],
  ];
}

/** The "Durable runs" table's rows. */
export function buildDurableRows(results: DurableResults): string[][] {
  return [...results.stores.flatMap(storeRows), ...results.langGraph.flatMap(langGraphRows), ...results.resumes.flatMap(resumeRows)];
}
