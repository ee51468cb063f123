import { buildStepGraph } from '../../src/graph/build-step-graph';
import { DependencyScheduler, StepState } from '../../src/scheduler/dependency-scheduler';

/** A scheduler over `ids`/`dependencies` that speaks ids instead of indices. */
function schedulerFor(ids: string[], dependencies: Record<string, string[]> = {}, maxConcurrency = Infinity) {
  const graph = buildStepGraph(ids, dependencies);
  const scheduler = new DependencyScheduler(graph, maxConcurrency);
  const names = (indices: readonly number[]) => indices.map((index) => graph.ids[index]);
  const at = (id: string) => graph.indexOf.get(id)!;
  return {
    scheduler,
    start: () => names(scheduler.start()),
    complete: (id: string) => names(scheduler.complete(at(id))),
    fail: (id: string) => names(scheduler.fail(at(id))),
    next: () => names(scheduler.next()),
    restore: (...ids: string[]) => ids.forEach((id) => scheduler.restore(at(id))),
    levels: () => [...scheduler.takeCompletedLevels()],
    state: (id: string) => scheduler.state[at(id)],
  };
}

describe('DependencyScheduler', () => {
  it('starts every step without dependencies, in declaration order', () => {
    const s = schedulerFor(['b', 'x', 'a'], { x: ['b'] });
    expect(s.start()).toEqual(['b', 'a']);
    expect(s.scheduler.runningCount).toBe(2);
    expect(s.state('b')).toBe(StepState.Running);
    expect(s.state('x')).toBe(StepState.Waiting);
  });

  it('makes a step ready as soon as its own dependencies completed, not its whole level', () => {
    // level 0: slow, fast; level 1: afterFast (depends on fast only)
    const s = schedulerFor(['slow', 'fast', 'afterFast', 'afterSlow'], { afterFast: ['fast'], afterSlow: ['slow'] });
    s.start();
    expect(s.complete('fast')).toEqual(['afterFast']);
    expect(s.state('slow')).toBe(StepState.Running);
  });

  it('waits for all dependencies of a step', () => {
    const s = schedulerFor(['a', 'b', 'c'], { c: ['a', 'b'] });
    s.start();
    expect(s.complete('a')).toEqual([]);
    expect(s.complete('b')).toEqual(['c']);
  });

  it('never runs more than maxConcurrency steps at once', () => {
    const s = schedulerFor(['a', 'b', 'c', 'd'], {}, 2);
    expect(s.start()).toEqual(['a', 'b']);
    expect(s.scheduler.runningCount).toBe(2);
    expect(s.state('c')).toBe(StepState.Ready);
    expect(s.complete('b')).toEqual(['c']);
    expect(s.scheduler.runningCount).toBe(2);
    expect(s.complete('a')).toEqual(['d']);
    expect(s.complete('c')).toEqual([]);
    expect(s.complete('d')).toEqual([]);
    expect(s.scheduler.isIdle).toBe(true);
  });

  it('starts ready steps in declaration order when capped, even one that became ready later', () => {
    // x is declared first but only becomes ready when a completes.
    const s = schedulerFor(['x', 'a', 'b', 'c'], { x: ['a'] }, 1);
    expect(s.start()).toEqual(['a']);
    expect(s.complete('a')).toEqual(['x']);
    expect(s.complete('x')).toEqual(['b']);
    expect(s.complete('b')).toEqual(['c']);
  });

  it('skips the transitive dependents of a failed step, in declaration order', () => {
    const s = schedulerFor(['a', 'b', 'c', 'd', 'e'], { d: ['c'], c: ['a'], b: ['a'], e: [] });
    s.start();
    expect(s.fail('a')).toEqual(['b', 'c', 'd']);
    expect(s.state('a')).toBe(StepState.Failed);
    expect(s.state('d')).toBe(StepState.Skipped);
    expect(s.state('e')).toBe(StepState.Running);
  });

  it('skips a step with a failed dependency even when its other dependency completes later', () => {
    const s = schedulerFor(['a', 'b', 'c'], { c: ['a', 'b'] });
    s.start();
    expect(s.fail('a')).toEqual(['c']);
    expect(s.complete('b')).toEqual([]);
    expect(s.state('c')).toBe(StepState.Skipped);
    expect(s.scheduler.isIdle).toBe(true);
  });

  it('fills a freed slot after a failure through next()', () => {
    const s = schedulerFor(['a', 'b', 'c'], {}, 1);
    expect(s.start()).toEqual(['a']);
    s.fail('a');
    expect(s.next()).toEqual(['b']);
  });

  it('starts nothing new after stop(), and is idle once the running steps finish', () => {
    const s = schedulerFor(['a', 'b', 'c', 'd'], { c: ['a'] }, 2);
    expect(s.start()).toEqual(['a', 'b']);
    s.scheduler.stop();
    expect(s.complete('a')).toEqual([]);
    expect(s.scheduler.isIdle).toBe(false);
    expect(s.complete('b')).toEqual([]);
    expect(s.next()).toEqual([]);
    expect(s.scheduler.isIdle).toBe(true);
    expect(s.state('c')).toBe(StepState.Waiting);
  });

  it('is not idle while steps wait in the ready queue', () => {
    const s = schedulerFor(['a', 'b'], {}, 1);
    s.start();
    expect(s.scheduler.isIdle).toBe(false);
    s.complete('a');
    expect(s.scheduler.isIdle).toBe(false);
    s.complete('b');
    expect(s.scheduler.isIdle).toBe(true);
  });

  it('reports levels complete in increasing order, once all lower levels settled', () => {
    const s = schedulerFor(['slow', 'fast', 'next'], { next: ['fast'] });
    s.start();
    s.complete('fast');
    expect(s.levels()).toEqual([]);
    s.complete('next');
    expect(s.levels()).toEqual([]); // level 1 is done, but level 0 is not
    s.complete('slow');
    expect(s.levels()).toEqual([0, 1]);
    expect(s.levels()).toEqual([]);
  });

  it('counts failed and skipped steps as settled for level completion', () => {
    const s = schedulerFor(['a', 'b', 'c'], { b: ['a'], c: ['b'] });
    s.start();
    s.fail('a');
    expect(s.levels()).toEqual([0, 1, 2]);
  });

  it('handles a 100,000-step chain', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `s${i}`);
    const dependencies: Record<string, string[]> = {};
    for (let i = 1; i < ids.length; i++) dependencies[ids[i]] = [ids[i - 1]];
    const graph = buildStepGraph(ids, dependencies);
    const scheduler = new DependencyScheduler(graph, 4);
    let ready = scheduler.start();
    let completed = 0;
    let widest = 0;
    while (ready.length > 0) {
      widest = Math.max(widest, ready.length);
      ready = scheduler.complete(ready[0]);
      completed++;
    }
    expect(completed).toBe(100_000);
    expect(widest).toBe(1);
    expect(scheduler.isIdle).toBe(true);
  });

  describe('restore (steps an earlier run finished)', () => {
    it('never starts a restored step, and starts what depends only on restored steps', () => {
      const s = schedulerFor(['a', 'b', 'c', 'd'], { b: ['a'], c: ['b'], d: ['a'] });
      s.restore('a', 'b');
      expect(s.start()).toEqual(['c', 'd']);
      expect(s.state('a')).toBe(StepState.Completed);
      expect(s.scheduler.runningCount).toBe(2);
    });

    it('waits for the steps that were not restored', () => {
      const s = schedulerFor(['a', 'b', 'join'], { join: ['a', 'b'] });
      s.restore('b');
      expect(s.start()).toEqual(['a']);
      expect(s.complete('a')).toEqual(['join']);
    });

    it('reports levels made complete by restored steps', () => {
      const s = schedulerFor(['a', 'b', 'c'], { b: ['a'], c: ['b'] });
      s.restore('a', 'b');
      expect(s.start()).toEqual(['c']);
      expect(s.levels()).toEqual([0, 1]);
      s.complete('c');
      expect(s.levels()).toEqual([2]);
      expect(s.scheduler.isIdle).toBe(true);
    });

    it('restores a failure: it never runs, its dependents are skipped, the rest goes on', () => {
      const s = schedulerFor(['a', 'b', 'c', 'd', 'e'], { b: ['a'], c: ['b'], d: ['c'], e: ['a'] });
      s.restore('a');
      expect(s.scheduler.restoreFailure(1)).toEqual([2, 3]); // c and d
      expect(s.state('d')).toBe(StepState.Skipped);
      expect(s.scheduler.restoreFailure(1)).toEqual([]);
      expect(s.state('b')).toBe(StepState.Failed);
      expect(s.start()).toEqual(['e']);
      expect(s.scheduler.runningCount).toBe(1);
      s.complete('e');
      expect(s.scheduler.isIdle).toBe(true);
    });

    it('restoring a step twice counts once', () => {
      const s = schedulerFor(['a', 'b', 'c'], { c: ['a', 'b'] });
      s.restore('a', 'a');
      expect(s.start()).toEqual(['b']);
      expect(s.complete('b')).toEqual(['c']);
    });

    it('restoring every step leaves nothing to start', () => {
      const s = schedulerFor(['a', 'b'], { b: ['a'] });
      s.restore('b', 'a');
      expect(s.start()).toEqual([]);
      expect(s.scheduler.isIdle).toBe(true);
      expect(s.levels()).toEqual([0, 1]);
    });
  });

  describe('withdraw (a runner took back a step that never started)', () => {
    it('counts the step as not started: the stopped run is idle once the others ended, and its level is not complete', () => {
      const s = schedulerFor(['a', 'b', 'c'], { c: ['a', 'b'] });
      expect(s.start()).toEqual(['a', 'b']);
      s.scheduler.stop(); // a failure drains the run
      s.scheduler.withdraw(1);
      expect(s.state('b')).toBe(StepState.Waiting);
      expect(s.scheduler.isIdle).toBe(false); // a still runs
      expect(s.fail('a')).toEqual(['c']);
      expect(s.scheduler.isIdle).toBe(true);
      expect(s.levels()).toEqual([]);
    });

    it('ignores a step that is not running', () => {
      const s = schedulerFor(['a', 'b'], { b: ['a'] });
      s.start();
      s.scheduler.withdraw(1);
      expect(s.state('b')).toBe(StepState.Waiting);
      expect(s.scheduler.runningCount).toBe(1);
    });
  });
});
