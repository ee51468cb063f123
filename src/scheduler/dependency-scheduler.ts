import type { StepGraph } from '../graph/step-graph';
import { MinHeap } from './min-heap';

/** Where a step is in one run. */
export const enum StepState {
  Waiting = 0,
  Ready = 1,
  Running = 2,
  Completed = 3,
  Failed = 4,
  Skipped = 5,
}

const NONE: readonly number[] = [];

/** Where the scheduler appends the steps to start: an array, or the run's fixed buffer. */
export interface IndexSink {
  push(index: number): unknown;
}

/**
 * Decides what is ready, and nothing else: a pure state machine over a {@link StepGraph}.
 * No promises, no time, no step code; the run feeds it what finished and starts what it
 * returns. A durable store or a queue-backed runner plugs in around it, not into it.
 *
 * - A step is ready when all of its dependencies completed (not when its level did).
 * - At most `maxConcurrency` steps run at once; ready steps start in declaration order.
 * - A failed step's transitive dependents are skipped (`fail`), or the run stops (`stop`):
 *   nothing new starts.
 * - Levels are reported complete in increasing order, once all steps of levels 0..k settled.
 */
export class DependencyScheduler {
  readonly state: Uint8Array;
  private readonly waitingOn: Int32Array;
  private readonly unsettledPerLevel: Int32Array;
  private readonly queue: MinHeap | undefined;
  private running = 0;
  private stopped = false;
  /** A step was restored (a resume): `start` looks for what is ready instead of taking the roots. */
  private restoredAny = false;
  private nextLevelToReport = 0;

  constructor(
    private readonly graph: StepGraph,
    private readonly maxConcurrency: number = Infinity,
  ) {
    const size = graph.ids.length;
    this.state = new Uint8Array(size);
    this.waitingOn = graph.dependencyCount.slice();
    this.unsettledPerLevel = graph.levelSize.slice();
    this.queue = maxConcurrency === Infinity ? undefined : new MinHeap();
  }

  /** Steps running now. */
  get runningCount(): number {
    return this.running;
  }

  /** True when nothing runs and nothing more will start. */
  get isIdle(): boolean {
    return this.running === 0 && (this.stopped || this.queue === undefined || this.queue.size === 0);
  }

  /**
   * The steps to start first (those without dependencies, up to the cap), marked running.
   * Like every method that returns steps to start, it appends them to `out` when given
   * (the run passes its start queue: no array per call on the hot path).
   */
  start(): number[];
  start<S extends IndexSink>(out: S): S;
  start(out: IndexSink = []): IndexSink {
    // A fresh run starts the graph's roots, precomputed. Not a loop over every step per run: V8
    // compiled that loop on-stack (OSR) in the first run, and in some processes the compiled
    // code bailed out after the loop (feedback it lacked when compiled) at every later run.
    return this.admit(this.restoredAny ? this.readyAfterRestore() : this.graph.roots, out);
  }

  /** After `restore`: every waiting step whose dependencies all completed. */
  private readyAfterRestore(): number[] {
    const ready: number[] = [];
    const state = this.state;
    for (let index = 0; index < this.waitingOn.length; index++) {
      if (this.waitingOn[index] === 0 && state[index] === StepState.Waiting) ready.push(index);
    }
    return ready;
  }

  /**
   * Marks `index` completed by an earlier run (a resume restores it from the store): before
   * {@link start}, it counts as a finished dependency and never runs. Restore steps in any
   * order; a restored step's dependencies need not be restored.
   */
  restore(index: number): void {
    if (this.state[index] !== StepState.Waiting) return;
    this.restoredAny = true;
    this.state[index] = StepState.Completed;
    this.settle(index);
    const { dependentStart, dependentList } = this.graph;
    for (let i = dependentStart[index]; i < dependentStart[index + 1]; i++) this.waitingOn[dependentList[i]]--;
  }

  /** Records that `index` completed; returns (appends to `out`) the steps to start now, marked running. */
  complete(index: number): number[];
  complete<S extends IndexSink>(index: number, out: S): S;
  complete(index: number, out: IndexSink = []): IndexSink {
    this.state[index] = StepState.Completed;
    this.running--;
    this.settle(index);
    if (this.stopped) return out;
    const { dependentStart, dependentList } = this.graph;
    const queue = this.queue;
    for (let i = dependentStart[index], end = dependentStart[index + 1]; i < end; i++) {
      const dependent = dependentList[i];
      if (--this.waitingOn[dependent] !== 0 || this.state[dependent] !== StepState.Waiting) continue;
      if (queue === undefined) {
        this.state[dependent] = StepState.Running;
        this.running++;
        out.push(dependent);
      } else {
        this.state[dependent] = StepState.Ready;
        queue.push(dependent);
      }
    }
    return queue === undefined ? out : this.admit(NONE, out);
  }

  /**
   * Records that `index` failed and skips its transitive dependents (they will never run).
   * Returns the skipped steps in declaration order; call {@link next} for what to start.
   */
  fail(index: number): number[] {
    this.running--;
    return this.markFailed(index);
  }

  /**
   * Marks `index` failed in an earlier run (a resume of a completed run restores its failure):
   * before {@link start}, it never runs, and its transitive dependents are skipped; returns them
   * in declaration order.
   */
  restoreFailure(index: number): number[] {
    if (this.state[index] !== StepState.Waiting) return [];
    this.restoredAny = true;
    return this.markFailed(index);
  }

  private markFailed(index: number): number[] {
    this.state[index] = StepState.Failed;
    this.settle(index);
    const skipped: number[] = [];
    const stack = [index];
    while (stack.length > 0) {
      for (const dependent of this.graph.dependents[stack.pop()!]) {
        if (this.state[dependent] !== StepState.Waiting) continue;
        this.state[dependent] = StepState.Skipped;
        this.settle(dependent);
        skipped.push(dependent);
        stack.push(dependent);
      }
    }
    return skipped.sort((a, b) => a - b);
  }

  /**
   * A running step that never started anywhere after all (a runner took it back once the run
   * stopped starting steps): it counts as not started, as a step the scheduler never admitted.
   */
  withdraw(index: number): void {
    if (this.state[index] !== StepState.Running) return;
    this.state[index] = StepState.Waiting;
    this.running--;
  }

  /** Steps to start now that a slot may have freed (appended to `out`), marked running. */
  next(): number[];
  next<S extends IndexSink>(out: S): S;
  next(out: IndexSink = []): IndexSink {
    return this.admit(NONE, out);
  }

  /** Nothing new starts from now on; running steps may still finish. */
  stop(): void {
    this.stopped = true;
  }

  /** Levels completed since the last call, in increasing order. */
  takeCompletedLevels(): readonly number[] {
    let levels: number[] | undefined;
    while (this.nextLevelToReport < this.unsettledPerLevel.length && this.unsettledPerLevel[this.nextLevelToReport] === 0) {
      (levels ??= []).push(this.nextLevelToReport++);
    }
    return levels ?? NONE;
  }

  private settle(index: number): void {
    this.unsettledPerLevel[this.graph.levelOf[index]]--;
  }

  private admit<S extends IndexSink>(ready: ArrayLike<number>, out: S): S {
    if (this.stopped) return out;
    const queue = this.queue;
    if (queue === undefined) {
      // Counted before the loop: nothing after it that an on-stack-compiled loop lacks feedback for.
      this.running += ready.length;
      for (let i = 0; i < ready.length; i++) {
        this.state[ready[i]] = StepState.Running;
        out.push(ready[i]);
      }
      return out;
    }
    for (let i = 0; i < ready.length; i++) {
      this.state[ready[i]] = StepState.Ready;
      queue.push(ready[i]);
    }
    while (queue.size > 0 && this.running < this.maxConcurrency) {
      const index = queue.pop();
      this.state[index] = StepState.Running;
      this.running++;
      out.push(index);
    }
    return out;
  }
}
