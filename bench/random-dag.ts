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
