import type { StepGraph } from '../graph/step-graph';

/** The shape of a pipeline's graph that a stored run is tied to. */
interface GraphShape {
  /** Each step's direct dependencies, by id, in declaration order. */
  steps: Record<string, string[]>;
  output: string;
}

/**
 * A run's fingerprint: its graph's step ids, dependencies and output step, as canonical JSON.
 * A resume of a run recorded with another fingerprint is refused: the records would not
 * belong to the steps. JSON rather than a hash, so the refusal can name what changed.
 */
export function fingerprintOf(graph: StepGraph, outputStep: string): string {
  // A graph is immutable and built once per pipeline: compute its fingerprint once.
  const cached = fingerprints.get(graph);
  if (cached !== undefined && cached.outputStep === outputStep) return cached.fingerprint;
  const fingerprint = computeFingerprint(graph, outputStep);
  fingerprints.set(graph, { outputStep, fingerprint });
  return fingerprint;
}

const fingerprints = new WeakMap<StepGraph, { outputStep: string; fingerprint: string }>();

function computeFingerprint(graph: StepGraph, outputStep: string): string {
  const steps: Record<string, string[]> = {};
  graph.ids.forEach((id, index) => {
    steps[id] = graph.dependencies[index].map((dependency) => graph.ids[dependency]).sort();
  });
  return JSON.stringify({ steps, output: outputStep } satisfies GraphShape);
}

/**
 * What changed between a stored fingerprint and the current one, for people: added, removed
 * and re-wired steps, and a new output step. Empty when they are the same.
 */
export function describeFingerprintChange(stored: string, current: string): string[] {
  const before = parseFingerprint(stored);
  if (before === undefined) return ['the stored fingerprint is not one this version of fastroai wrote'];
  const after = parseFingerprint(current)!;
  const changes: string[] = [];
  const beforeIds = Object.keys(before.steps);
  const afterIds = Object.keys(after.steps);
  const added = afterIds.filter((id) => !Object.hasOwn(before.steps, id));
  const removed = beforeIds.filter((id) => !Object.hasOwn(after.steps, id));
  const rewired = afterIds.filter(
    (id) => Object.hasOwn(before.steps, id) && before.steps[id].join('\u0000') !== after.steps[id].join('\u0000'),
  );
  if (added.length > 0) changes.push(`added ${added.map((id) => `'${id}'`).join(', ')}`);
  if (removed.length > 0) changes.push(`removed ${removed.map((id) => `'${id}'`).join(', ')}`);
  for (const id of rewired) {
    changes.push(`re-wired '${id}' (depended on [${before.steps[id].join(', ')}], now on [${after.steps[id].join(', ')}])`);
  }
  if (before.output !== after.output) changes.push(`output step '${before.output}' became '${after.output}'`);
  return changes;
}

/**
 * The fingerprint with its steps in sorted order: the same string for the same graph, whatever
 * order its steps were declared in (a fingerprint lists them in declaration order, which the
 * inspector draws them in). What workers compare; a string that is not a fingerprint as it is.
 */
export function canonicalFingerprint(fingerprint: string): string {
  const shape = parseFingerprint(fingerprint);
  if (shape === undefined) return fingerprint;
  const steps: Record<string, string[]> = {};
  for (const id of Object.keys(shape.steps).sort()) steps[id] = [...shape.steps[id]].sort();
  return JSON.stringify({ steps, output: shape.output });
}

/**
 * The graph shape a fingerprint holds (step ids with their dependencies, the output step);
 * undefined when the string is not a fingerprint fastroai wrote (a store written by something
 * else may hold any text). The inspector draws a run's graph from it.
 */
export function parseFingerprint(fingerprint: string): { steps: Record<string, string[]>; output: string | undefined } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fingerprint);
  } catch {
    return undefined;
  }
  const steps = (parsed as { steps?: unknown } | null)?.steps;
  if (typeof steps !== 'object' || steps === null || Array.isArray(steps)) return undefined;
  for (const dependencies of Object.values(steps)) {
    if (!Array.isArray(dependencies) || dependencies.some((id) => typeof id !== 'string')) return undefined;
  }
  const output = (parsed as { output?: unknown }).output;
  return { steps: steps as Record<string, string[]>, output: typeof output === 'string' ? output : undefined };
}
