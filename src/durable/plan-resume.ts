import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { dependentsClosure } from '../graph/dependents-closure';
import { formatIdList } from '../graph/format-id-list';
import type { StepGraph } from '../graph/step-graph';
import type { StepRecord } from '../store/run-store';

/** What a resume restores and what it runs. */
export interface ResumePlan {
  /** By step index: the record a restored step's output comes from; undefined for steps that run. */
  readonly restored: readonly (StepRecord | undefined)[];
  /** By step index: the generation a step's record takes if it runs in this resume. */
  readonly generationOf: Int32Array;
  /**
   * By step index: the failed record a step's failure comes from, when the run completed (a
   * failure under `onError: 'continue'`) and is resumed without `rerun`: it runs nothing.
   */
  readonly failed?: readonly (StepRecord | undefined)[];
  /** With `failed`, by step index: 1 for a failure restored there and each of its transitive dependents (skipped again): none runs. */
  readonly skipped?: Uint8Array;
}

/**
 * Decides, from a run's step records, which steps a resume restores and which it runs:
 * a step is restored when its latest record (highest generation) completed, it is not named in
 * `rerun` nor a transitive dependent of one, every one of its dependencies is restored too, and
 * its record was written after theirs: a record written before a dependency's latest was made
 * from that dependency's older output (a `rerun` interrupted after it rewrote the dependency,
 * before the step ran again), so the step runs again.
 *
 * `records` come in the order they were written (`getRun`, `claimRun`): a step's record is
 * always written after its dependencies' records it was made from, as the step starts only
 * once those are acknowledged.
 * Every other step runs, under the generation after its latest record (1 without one), so the
 * old records stay and the first write of the new one wins. Except in a run that `completed`,
 * resumed without `rerun` (API.md §12: it runs nothing): a step whose latest record failed while
 * its dependencies completed is restored as failed (its dependents are skipped again).
 *
 * @param runCompleted the run's status is `completed`
 * @throws PipelineValidationError for a `rerun` id that is not a step
 */
export function planResume(graph: StepGraph, records: readonly StepRecord[], rerun: readonly string[] = [], runCompleted = false): ResumePlan {
  const size = graph.ids.length;
  const latest: (StepRecord | undefined)[] = new Array(size);
  /** By step index: where its latest record is in the write order. */
  const writtenAt = new Int32Array(size);
  records.forEach((record, at) => {
    const index = graph.indexOf.get(record.stepId);
    if (index === undefined) return; // the fingerprint check refuses such runs first
    const current = latest[index];
    if (current === undefined || record.generation > current.generation) {
      latest[index] = record;
      writtenAt[index] = at;
    }
  });
  const rerunClosure = dependentsClosure(
    graph,
    rerun.map((id) => {
      const index = graph.indexOf.get(id);
      if (index === undefined) throw new PipelineValidationError(`rerun names unknown step '${id}'. Steps: ${formatIdList(graph.ids)}`);
      return index;
    }),
  );
  const restored: (StepRecord | undefined)[] = new Array(size);
  const generationOf = new Int32Array(size);
  let failed: (StepRecord | undefined)[] | undefined;
  // Dependencies first: a step's level is above all of its dependencies'.
  const order = Array.from({ length: size }, (_, index) => index).sort((a, b) => graph.levelOf[a] - graph.levelOf[b] || a - b);
  for (const index of order) {
    const record = latest[index];
    // Restored, and written before this step's record: the outputs it was made from.
    const dependenciesRestored = graph.dependencies[index].every((dependency) => restored[dependency] !== undefined && writtenAt[dependency] < writtenAt[index]);
    const keeps = record !== undefined && record.status === 'completed' && rerunClosure[index] === 0 && dependenciesRestored;
    if (keeps) restored[index] = record;
    // A failed record below a failure (an older generation's, say) is not the run's result: that step was skipped.
    const keepsFailure = runCompleted && rerun.length === 0 && record?.status === 'failed' && dependenciesRestored;
    if (keepsFailure) (failed ??= new Array(size))[index] = record;
    generationOf[index] = keeps || keepsFailure ? record.generation : (record?.generation ?? 0) + 1;
  }
  if (failed === undefined) return { restored, generationOf };
  const failedIndices = failed.flatMap((record, index) => (record === undefined ? [] : [index]));
  return { restored, generationOf, failed, skipped: dependentsClosure(graph, failedIndices) };
}
