import { shownMessageOf } from '../support/shown-message';
import { PipelineValidationError } from 'fastroai';
import { buildStepGraph } from '../../src/graph/build-step-graph';
import { isAncestor } from '../../src/graph/is-ancestor';
import { thrownBy } from '../support/async-helpers';

/** The message's cycle, `Dependency graph has a cycle: a -> b -> a`, as a list of ids. */
function cycleIn(error: unknown): string[] {
  expect(error).toBeInstanceOf(PipelineValidationError);
  const match = /^Dependency graph has a cycle: (.+)$/.exec((error as Error).message);
  expect(match).not.toBeNull();
  return match![1].split(' -> ');
}

/**
 * Checks that `cycle` is closed and follows dependency edges (each id depends on the next),
 * and that it visits exactly `expectedMembers`.
 */
function expectValidCycle(cycle: string[], dependencies: Record<string, string[]>, expectedMembers: string[]): void {
  expect(cycle[0]).toBe(cycle[cycle.length - 1]);
  const brokenEdges: string[] = [];
  for (let i = 0; i + 1 < cycle.length; i++) {
    if (!(dependencies[cycle[i]] ?? []).includes(cycle[i + 1])) brokenEdges.push(`${cycle[i]} -> ${cycle[i + 1]}`);
  }
  expect(brokenEdges).toEqual([]);
  expect([...new Set(cycle)].sort()).toEqual([...expectedMembers].sort());
}

describe('buildStepGraph', () => {
  it('indexes steps in declaration order', () => {
    const graph = buildStepGraph(['x', 'y', 'z']);
    expect(graph.ids).toEqual(['x', 'y', 'z']);
    expect(graph.indexOf.get('y')).toBe(1);
  });

  it('puts steps without dependencies in level 0', () => {
    const graph = buildStepGraph(['a', 'b', 'c']);
    expect(graph.levels).toEqual([['a', 'b', 'c']]);
  });

  it('levels a step at 1 + the highest level of its dependencies', () => {
    const graph = buildStepGraph(['a', 'b', 'c', 'd'], { b: ['a'], c: ['b'], d: ['a', 'c'] });
    expect(graph.levels).toEqual([['a'], ['b'], ['c'], ['d']]);
    expect(Array.from(graph.levelOf)).toEqual([0, 1, 2, 3]);
  });

  it('lists ids within a level in declaration order, not dependency order', () => {
    const graph = buildStepGraph(['late', 'root', 'early'], { late: ['root'], early: ['root'] });
    expect(graph.levels).toEqual([['root'], ['late', 'early']]);
  });

  it('records direct dependencies and dependents by index, ignoring duplicates', () => {
    const graph = buildStepGraph(['a', 'b', 'c'], { c: ['b', 'a', 'b'], b: ['a'] });
    expect(graph.dependencies).toEqual([[], [0], [1, 0]]);
    expect(graph.dependents).toEqual([[1, 2], [2], []]);
  });

  it('holds the dependents flat too (the scheduler reads these) and the roots a fresh run starts with', () => {
    const graph = buildStepGraph(['a', 'b', 'c', 'd', 'e'], { c: ['b', 'a'], b: ['a'], e: ['d'] });
    const flatDependentsOf = (index: number) => Array.from(graph.dependentList.subarray(graph.dependentStart[index], graph.dependentStart[index + 1]));
    expect([0, 1, 2, 3, 4].map(flatDependentsOf)).toEqual(graph.dependents);
    expect(Array.from(graph.roots)).toEqual([0, 3]);
  });

  it('rejects an empty step list', () => {
    expect(() => buildStepGraph([])).toThrow(PipelineValidationError);
  });

  it('rejects a dependencies key that is not a step', () => {
    const error = thrownBy(() => buildStepGraph(['a'], { x: ['a'] }));
    expect(error).toBeInstanceOf(PipelineValidationError);
    expect((error as Error).message).toBe("Dependency for unknown step: 'x'");
    expect(shownMessageOf(error)).toBe("Dependency for unknown step: 'x'. Known steps: ['a']");
  });

  it('rejects a dependency that is not a step', () => {
    const error = thrownBy(() => buildStepGraph(['a'], { a: ['x'] }));
    expect((error as Error).message).toBe("Step 'a' depends on unknown: 'x'");
    expect(shownMessageOf(error)).toBe("Step 'a' depends on unknown: 'x'. Known steps: ['a']");
  });

  it('lists the known steps and suggests the nearest for a misspelt dependency', () => {
    const error = thrownBy(() => buildStepGraph(['extract', 'classify', 'summarize'], { summarize: ['extrct'] }));
    expect(shownMessageOf(error)).toBe(
      "Step 'summarize' depends on unknown: 'extrct'. Known steps: ['extract', 'classify', 'summarize']. Did you mean 'extract'?",
    );
  });

  it('suggests the nearest step for a misspelt dependencies key', () => {
    const error = thrownBy(() => buildStepGraph(['extract', 'classify'], { clasify: ['extract'] }));
    expect(shownMessageOf(error)).toBe("Dependency for unknown step: 'clasify'. Known steps: ['extract', 'classify']. Did you mean 'classify'?");
  });

  it('rejects a step that depends on itself', () => {
    const cycle = cycleIn(thrownBy(() => buildStepGraph(['a', 'b'], { a: ['a'] })));
    expect(cycle).toEqual(['a', 'a']);
  });

  it('names a two-step cycle', () => {
    const dependencies = { a: ['b'], b: ['a'] };
    const cycle = cycleIn(thrownBy(() => buildStepGraph(['a', 'b'], dependencies)));
    expectValidCycle(cycle, dependencies, ['a', 'b']);
    expect(cycle).toHaveLength(3);
  });

  it('names only the cycle, not the steps downstream of it', () => {
    const dependencies = { b: ['a', 'd'], c: ['b'], d: ['c'], e: ['d'], f: ['e'] };
    const cycle = cycleIn(thrownBy(() => buildStepGraph(['a', 'b', 'c', 'd', 'e', 'f'], dependencies)));
    expectValidCycle(cycle, dependencies, ['b', 'c', 'd']);
  });

  it('rejects dependencies that are not an object', () => {
    expect(() => buildStepGraph(['a'], [] as never)).toThrow(/^dependencies must be an object/);
    expect(() => buildStepGraph(['a'], 'a' as never)).toThrow(PipelineValidationError);
  });

  it('rejects a dependency list that is not an array', () => {
    const error = thrownBy(() => buildStepGraph(['a', 'b'], { b: 'a' as never }));
    expect((error as Error).message).toBe("Dependencies of step 'b' must be an array of step ids, got 'a'");
  });

  it('rejects a dependency entry that is not a string', () => {
    const error = thrownBy(() => buildStepGraph(['a', 'b'], { b: [0 as never] }));
    expect((error as Error).message).toBe("Dependencies of step 'b' must be step ids (strings), got 0");
  });

  it('builds a 100,000-step chain without recursion', () => {
    const size = 100_000;
    const ids = Array.from({ length: size }, (_, i) => `s${i}`);
    const dependencies: Record<string, string[]> = {};
    for (let i = 1; i < size; i++) dependencies[ids[i]] = [ids[i - 1]];
    const graph = buildStepGraph(ids, dependencies);
    expect(graph.levels).toHaveLength(size);
    expect(graph.levelOf[size - 1]).toBe(size - 1);
  });

  it('names a cycle closed deep inside a 100,000-step chain', () => {
    const size = 100_000;
    const ids = Array.from({ length: size }, (_, i) => `s${i}`);
    const dependencies: Record<string, string[]> = {};
    for (let i = 1; i < size; i++) dependencies[ids[i]] = [ids[i - 1]];
    dependencies.s70000 = ['s69999', 's70002'];
    const cycle = cycleIn(thrownBy(() => buildStepGraph(ids, dependencies)));
    expectValidCycle(cycle, dependencies, ['s70000', 's70001', 's70002']);
  });

  it('names a cycle that spans a whole 100,000-step chain', () => {
    const size = 100_000;
    const ids = Array.from({ length: size }, (_, i) => `s${i}`);
    const dependencies: Record<string, string[]> = { s0: [`s${size - 1}`] };
    for (let i = 1; i < size; i++) dependencies[ids[i]] = [ids[i - 1]];
    const cycle = cycleIn(thrownBy(() => buildStepGraph(ids, dependencies)));
    expect(cycle).toHaveLength(size + 1);
    expectValidCycle(cycle, dependencies, ids);
  });

  it('accepts a step that depends on 10,000 others', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `s${i}`);
    const graph = buildStepGraph([...ids, 'sink'], { sink: ids });
    expect(graph.levels).toEqual([ids, ['sink']]);
    expect(graph.dependencies[10_000]).toHaveLength(10_000);
  });
});

describe('isAncestor', () => {
  const graph = buildStepGraph(['a', 'b', 'c', 'd', 'e'], { b: ['a'], c: ['b'], d: ['c'], e: ['a'] });
  const at = (id: string) => graph.indexOf.get(id)!;

  it('is true for a direct dependency', () => {
    expect(isAncestor(graph, at('c'), at('d'))).toBe(true);
  });

  it('is true for a transitive dependency', () => {
    expect(isAncestor(graph, at('a'), at('d'))).toBe(true);
  });

  it('is false for a step on another branch, a dependent, and the step itself', () => {
    expect(isAncestor(graph, at('e'), at('d'))).toBe(false);
    expect(isAncestor(graph, at('d'), at('a'))).toBe(false);
    expect(isAncestor(graph, at('d'), at('d'))).toBe(false);
  });
});
