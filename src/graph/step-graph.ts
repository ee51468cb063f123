/**
 * A validated DAG of steps, indexed by declaration order. Built once per pipeline by
 * {@link buildStepGraph}; read by the scheduler on every run, so everything is precomputed
 * into flat arrays.
 */
export interface StepGraph {
  /** Step ids in declaration order; a step's index is its position here. */
  readonly ids: readonly string[];
  /** Index of each id. */
  readonly indexOf: ReadonlyMap<string, number>;
  /** Direct dependencies of each step (indices, in the order they were declared). */
  readonly dependencies: readonly (readonly number[])[];
  /** Direct dependents of each step (indices, ascending: declaration order). */
  readonly dependents: readonly (readonly number[])[];
  /**
   * The same, flat: step `i`'s dependents are `dependentList[dependentStart[i] .. dependentStart[i + 1])`.
   * The scheduler reads these on every step end: two contiguous buffers instead of an array object
   * (and its elements) per step, which can lie anywhere in the heap.
   */
  readonly dependentStart: Int32Array;
  readonly dependentList: Int32Array;
  /** Steps without dependencies, in declaration order: what a fresh run starts first. */
  readonly roots: Int32Array;
  /** Level of each step: 0 without dependencies, else 1 + the highest level of its dependencies. */
  readonly levelOf: Int32Array;
  /** How many direct dependencies each step has (the scheduler copies it per run). */
  readonly dependencyCount: Int32Array;
  /** How many steps each level has (the scheduler copies it per run). */
  readonly levelSize: Int32Array;
  /** Step ids per level, each level in declaration order. */
  readonly levels: readonly (readonly string[])[];
}
