import type { PipelineResult, StepTiming } from './pipeline-result';
import { describeValue } from '../config/step-config';
import { escapeMermaidText } from './escape-mermaid-text';
import { runGraphOf, type RunGraph } from './run-graph-of';

/**
 * Draws a run as a Mermaid `gantt` chart: one bar per step that ran (start to end, ms since
 * the run started), grouped by level, with the critical path tagged `crit`, so what ran in
 * parallel and what held the run up show at a glance.
 *
 * The critical path is found by walking back from the step that finished last: at each
 * step, to the dependency that finished last (the one it was waiting for), until a step
 * with no dependencies. The dependency edges come from the run's graph, which a result of
 * `execute`/`run` carries (non-enumerably). For a result without it (built by hand, or read
 * back from JSON), the walk goes to the step that finished last at or before the current
 * step started — the one whose end released it.
 *
 * Steps that were skipped (or never started) have no timing and are left out. A failed
 * step is labelled `failed`; one that needed retries shows its attempts.
 *
 * @param result what `execute` resolves with (or `pipeline.completed` carries), or one read back from JSON
 * @throws TypeError when `result` is not a PipelineResult (no `timings` record of `{ startMs, endMs }`)
 * @example
 * const result = await pipeline.execute(input, deps);
 * fs.writeFileSync('run.mmd', toMermaidGantt(result));
 * // gantt
 * //   title document_processor (412 ms)
 * //   dateFormat x
 * //   axisFormat %L ms
 * //   section level 0
 * //   extract 120.3 ms :crit, s0, 0, 120
 * //   ...
 */
export function toMermaidGantt(result: PipelineResult<unknown>): string {
  checkResult(result);
  const timings = result.timings;
  const runGraph = runGraphOf(result);
  const ids = orderedIds(timings, runGraph);
  const totalMs = ids.reduce((latest, id) => Math.max(latest, timings[id].endMs), 0);
  const critical = findCriticalPath(timings, ids, runGraph);
  const lines = ['gantt'];
  const name = runGraph?.name ?? 'pipeline run';
  lines.push(`  title ${escapeMermaidText(name)} (${formatMs(totalMs)})`);
  lines.push('  dateFormat x');
  lines.push(`  axisFormat ${totalMs < 1000 ? '%L ms' : totalMs < 60_000 ? '%S.%L s' : '%M:%S'}`);
  lines.push('  todayMarker off');
  if (critical.length > 0) lines.push(`  %% critical path: ${critical.map(escapeMermaidText).join(' -> ')}`);
  const onPath = new Set(critical);
  let section: string | undefined;
  for (const id of ids) {
    const index = runGraph?.graph.indexOf.get(id);
    const name = index === undefined ? 'steps' : `level ${runGraph!.graph.levelOf[index]}`;
    if (name !== section) {
      section = name;
      lines.push(`  section ${name}`);
    }
    const timing = timings[id];
    const startMs = Math.round(timing.startMs);
    // A bar needs a width to be seen: a step that took under 0.5 ms is drawn 1 ms wide (its label says how long it took).
    const endMs = Math.max(startMs + 1, Math.round(timing.endMs));
    const notes = [formatMs(timing.endMs - timing.startMs)];
    if (timing.attempts > 1) notes.push(`${timing.attempts} attempts`);
    if (result.errors !== undefined && Object.hasOwn(result.errors, id)) notes.push('failed');
    if (typeof timing.workerId === 'string') notes.push(`on ${escapeMermaidText(timing.workerId)}`);
    const tags = onPath.has(id) ? 'crit, ' : '';
    lines.push(`  ${escapeMermaidText(id)} ${notes.join(', ')} :${tags}t${index ?? ids.indexOf(id)}, ${startMs}, ${endMs}`);
  }
  return lines.join('\n');
}

/**
 * The chain of steps that held a run up, first to last: from the step that finished last,
 * back through the latest-finishing dependency each time (see {@link toMermaidGantt}).
 */
export function findCriticalPath(
  timings: Readonly<Record<string, StepTiming>>,
  ids: readonly string[] = Object.keys(timings),
  runGraph?: RunGraph,
): string[] {
  if (ids.length === 0) return [];
  let current = latestFinishing(ids, timings);
  const path = [current];
  const onPath = new Set(path);
  for (;;) {
    const startMs = timings[current].startMs;
    const candidates =
      runGraph === undefined
        ? ids.filter((id) => !onPath.has(id) && timings[id].endMs <= startMs)
        : runGraph.graph.dependencies[runGraph.graph.indexOf.get(current)!]
            .map((index) => runGraph.graph.ids[index])
            .filter((id) => Object.hasOwn(timings, id));
    if (candidates.length === 0) break;
    current = latestFinishing(candidates, timings);
    path.push(current);
    onPath.add(current);
  }
  return path.reverse();
}

/** The step that finished last; the first of them on a tie. */
function latestFinishing(ids: readonly string[], timings: Readonly<Record<string, StepTiming>>): string {
  let latest = ids[0];
  for (const id of ids) if (timings[id].endMs > timings[latest].endMs) latest = id;
  return latest;
}

/** Steps that ran, by level (when the graph is known), then start, then declaration order. */
function orderedIds(timings: Readonly<Record<string, StepTiming>>, runGraph: RunGraph | undefined): string[] {
  const ids = Object.keys(timings);
  const position = new Map(ids.map((id, index) => [id, index]));
  const order = (id: string) => runGraph?.graph.indexOf.get(id) ?? position.get(id)!;
  const level = (id: string) => {
    const index = runGraph?.graph.indexOf.get(id);
    return index === undefined ? 0 : runGraph!.graph.levelOf[index];
  };
  return ids.sort((a, b) => level(a) - level(b) || timings[a].startMs - timings[b].startMs || order(a) - order(b));
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

/** A clear error for what is not a run's result, instead of a raw `TypeError` from deep inside. */
function checkResult(result: unknown): void {
  const expected = 'toMermaidGantt expects a PipelineResult (what execute() resolves with, or pipeline.completed carries)';
  if (typeof result !== 'object' || result === null) throw new TypeError(`${expected}, got ${describeValue(result)}`);
  const { timings, errors } = result as Partial<PipelineResult<unknown>>;
  if (typeof timings !== 'object' || timings === null || Array.isArray(timings)) {
    throw new TypeError(`${expected}: its timings must be a record of { startMs, endMs, attempts } by step id, got ${describeValue(timings)}`);
  }
  for (const [id, timing] of Object.entries(timings)) {
    const { startMs, endMs } = (timing ?? {}) as Partial<StepTiming>;
    if (typeof startMs !== 'number' || typeof endMs !== 'number' || !Number.isFinite(startMs) || !Number.isFinite(endMs)) {
      throw new TypeError(`${expected}: timings['${id}'] must have startMs and endMs in ms, got ${describeValue(timing)}`);
    }
  }
  if (errors !== undefined && (typeof errors !== 'object' || errors === null)) {
    throw new TypeError(`${expected}: its errors must be a record of errors by step id, got ${describeValue(errors)}`);
  }
}
