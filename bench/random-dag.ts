/** Deterministic pseudo-random numbers (mulberry32), so every run of the bench sees the same DAGs. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random DAG: each step depends on up to `maxDeps` earlier steps within `window` positions. */
export function randomDag(size: number, seed: number, maxDeps = 3, window = 50): number[][] {
  const random = createRandom(seed);
  const dependencies: number[][] = [];
  for (let index = 0; index < size; index++) {
    const deps = new Set<number>();
    const count = index === 0 ? 0 : Math.floor(random() * (maxDeps + 1));
    for (let k = 0; k < count; k++) deps.add(Math.max(0, index - 1 - Math.floor(random() * Math.min(window, index))));
    dependencies.push([...deps]);
  }
  return dependencies;
}

/** A chain: step i depends on step i - 1. */
export function chainDag(size: number): number[][] {
  return Array.from({ length: size }, (_, index) => (index === 0 ? [] : [index - 1]));
}

/** A DAG whose steps sleep: `dependencies[i]` are step i's deps, `sleepsMs[i]` how long it sleeps. */
export interface SleepingDag {
  name: string;
  dependencies: number[][];
  sleepsMs: number[];
}

/**
 * The skewed DAG: one 200 ms step in parallel with a chain of three 50 ms steps, then a join.
 * Its critical path is 200 ms; running level by level (or in supersteps) costs 200 + 50 + 50.
 */
export function skewedDag(): SleepingDag {
  return {
    name: 'skewed DAG: 200 ms ∥ 50 → 50 → 50 ms, then a join (critical path 200 ms)',
    dependencies: [[], [], [1], [2], [0, 3]],
    sleepsMs: [200, 50, 50, 50, 0],
  };
}

/** A random DAG of `size` steps, each sleeping a random whole number of ms in [minMs, maxMs]. */
export function randomSleepingDag(size: number, seed: number, minMs: number, maxMs: number): SleepingDag {
  const random = createRandom(seed ^ 0x5eed);
  return {
    name: `random ${size}-step DAG #${seed}`,
    dependencies: randomDag(size, seed),
    sleepsMs: Array.from({ length: size }, () => minMs + Math.floor(random() * (maxMs - minMs + 1))),
  };
}
