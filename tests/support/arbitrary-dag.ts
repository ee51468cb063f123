/**
 * Random DAG scenarios for the engine's property-based suite, and the graph facts the
 * properties are checked against (transitive dependencies, levels), computed here
 * independently of `src/`.
 *
 * A scenario is built on topological indices (a step depends only on earlier indices), then
 * declared in a possibly shuffled order, so "declaration order" and "topological order" differ.
 * Everything shrinks towards a small DAG of synchronous, succeeding steps declared in order.
 */
import fc from 'fast-check';

/** What a step does when it runs. */
export type StepBehaviour = 'succeed' | 'throw' | 'incomplete';

/** What a failing step throws: an `Error`, or a value that is not one. */
export type ThrownKind = 'error' | 'typeError' | 'string' | 'emptyString' | 'undefined' | 'null' | 'number' | 'object';

/**
 * How a step takes its time: `sync` returns from `execute` directly; the others are async
 * functions that resume after a microtask, a macrotask (`setImmediate`) or a 1–5 ms timer.
 */
export type StepMode = 'sync' | 'microtask' | 'macrotask' | 'timer';

export interface PlannedStep {
  /** Direct dependencies, as topological indices (all smaller than this step's). */
  dependencies: number[];
  behaviour: StepBehaviour;
  thrown: ThrownKind;
  mode: StepMode;
  /** 1–5 for `timer` steps, else 0. */
  latencyMs: number;
}

export interface DagScenario {
  /** By topological index. */
  steps: PlannedStep[];
  /** `declarationOrder[k]` is the topological index of the k-th declared step (a permutation). */
  declarationOrder: number[];
  onError: 'fail' | 'continue';
  /** `undefined`: not given (the default, Infinity). */
  maxConcurrency: number | undefined;
  /** Topological index of a step to pass as `outputStep`, when one is passed. */
  outputStep: number;
  /** Pass `outputStep` even when the last level has a single step (it must be passed otherwise). */
  explicitOutputStep: boolean;
}

export interface DagScenarioOptions {
  /** @default 200 */
  maxSteps?: number;
  /** Per-DAG failure rates to pick from, in ‰ of the steps. */
  failurePerMille?: number[];
  /** Per-DAG INCOMPLETE rates to pick from, in ‰ of the steps (only steps without a failure roll). */
  incompletePerMille?: number[];
  /** Per-DAG rates of 1–5 ms timer steps to pick from, in ‰. */
  timerPerMille?: number[];
  onError?: Array<'fail' | 'continue'>;
}

const THROWN_KINDS: ThrownKind[] = ['error', 'typeError', 'string', 'emptyString', 'undefined', 'null', 'number', 'object'];

const rawStep = fc.record({
  // Offsets back from the step: small ones (fast-check favours them) give deep chains, large ones wide DAGs.
  backOffsets: fc.array(fc.nat(), { maxLength: 8 }),
  behaviourRoll: fc.integer({ min: 0, max: 999 }),
  thrown: fc.constantFrom(...THROWN_KINDS),
  modeRoll: fc.integer({ min: 0, max: 999 }),
  latencyMs: fc.integer({ min: 1, max: 5 }),
  rank: fc.nat({ max: 1_000_000 }),
});

/** Random DAG scenarios: 1..maxSteps steps, random failures, INCOMPLETE, latencies, onError and maxConcurrency. */
export function arbitraryDagScenario(options: DagScenarioOptions = {}): fc.Arbitrary<DagScenario> {
  const {
    maxSteps = 200,
    failurePerMille = [0, 0, 2, 10, 40, 200],
    incompletePerMille = [0, 0, 0, 3, 15],
    timerPerMille = [0, 5, 20, 50],
    onError = ['continue', 'fail'],
  } = options;
  return fc
    .record({
      raw: fc.array(rawStep, { minLength: 1, maxLength: maxSteps, size: 'max' }),
      failurePerMille: fc.constantFrom(...failurePerMille),
      incompletePerMille: fc.constantFrom(...incompletePerMille),
      timerPerMille: fc.constantFrom(...timerPerMille),
      // How far back a dependency may reach: 1 makes a chain, small windows deep DAGs.
      window: fc.constantFrom(Infinity, 1, 3, 12),
      onError: fc.constantFrom(...onError),
      maxConcurrency: fc.oneof(fc.constant(undefined), fc.constant(Infinity), fc.integer({ min: 1, max: 12 })),
      shuffled: fc.boolean(),
      outputRoll: fc.nat(),
      explicitOutputStep: fc.boolean(),
    })
    .map(({ raw, failurePerMille, incompletePerMille, timerPerMille, window, onError, maxConcurrency, shuffled, outputRoll, explicitOutputStep }) => {
      const steps = raw.map((r, index): PlannedStep => {
        const dependencies = index === 0 ? [] : [...new Set(r.backOffsets.map((offset) => index - 1 - (offset % Math.min(index, window))))];
        // Rolls near 0 mean "succeed" and "sync", so shrinking heads for the plainest DAG.
        const behaviour: StepBehaviour =
          r.behaviourRoll >= 1000 - failurePerMille
            ? 'throw'
            : r.behaviourRoll >= 1000 - failurePerMille - incompletePerMille
              ? 'incomplete'
              : 'succeed';
        const mode: StepMode =
          r.modeRoll >= 1000 - timerPerMille ? 'timer' : (['sync', 'microtask', 'macrotask'] as const)[r.modeRoll % 3];
        return { dependencies, behaviour, thrown: r.thrown, mode, latencyMs: mode === 'timer' ? r.latencyMs : 0 };
      });
      const declarationOrder = raw.map((_, index) => index);
      if (shuffled) declarationOrder.sort((a, b) => raw[a].rank - raw[b].rank || a - b);
      return {
        steps,
        declarationOrder,
        onError,
        maxConcurrency,
        outputStep: outputRoll % raw.length,
        explicitOutputStep,
      };
    });
}

/** Facts about a scenario's graph, derived from the scenario alone. */
export interface DagFacts {
  size: number;
  /** Step id by topological index. */
  ids: string[];
  /** Declaration position by topological index. */
  declarationIndex: number[];
  /** `ancestors[i][j]` is 1 when step j is a transitive dependency of step i. */
  ancestors: Uint8Array[];
  /** Topological indices of each step's transitive dependents. */
  descendants: number[][];
  /** Level by topological index: 0 without dependencies, else 1 + the highest of its dependencies'. */
  levelOf: number[];
  /** Ids by level, each level in declaration order. */
  levels: string[][];
}

/** The id of the step with topological index `index`. */
export function stepIdOf(index: number): string {
  return `step_${index}`;
}

export function dagFactsOf(scenario: DagScenario): DagFacts {
  const size = scenario.steps.length;
  const ids = scenario.steps.map((_, index) => stepIdOf(index));
  const declarationIndex = new Array<number>(size);
  scenario.declarationOrder.forEach((index, position) => (declarationIndex[index] = position));
  const ancestors: Uint8Array[] = [];
  const levelOf: number[] = [];
  for (let index = 0; index < size; index++) {
    const mine = new Uint8Array(size);
    let level = 0;
    for (const dep of scenario.steps[index].dependencies) {
      mine[dep] = 1;
      const theirs = ancestors[dep];
      for (let j = 0; j < dep; j++) if (theirs[j] === 1) mine[j] = 1;
      level = Math.max(level, levelOf[dep] + 1);
    }
    ancestors.push(mine);
    levelOf.push(level);
  }
  const descendants: number[][] = ids.map(() => []);
  for (let index = 0; index < size; index++) {
    for (let j = 0; j < index; j++) if (ancestors[index][j] === 1) descendants[j].push(index);
  }
  const levels: string[][] = [];
  for (const index of scenario.declarationOrder) {
    while (levels.length <= levelOf[index]) levels.push([]);
    levels[levelOf[index]].push(ids[index]);
  }
  return { size, ids, declarationIndex, ancestors, descendants, levelOf, levels };
}
