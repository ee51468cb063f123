import { fingerprintOf } from '../durable/fingerprint-of';
import { fingerprintDigest } from './fingerprint-digest';
import { ancestorsOf } from '../graph/ancestors-of';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { definitionOf } from '../pipeline/definition-of';
import type { Pipeline } from '../pipeline/pipeline';
import type { PipelineDefinition } from '../pipeline/pipeline-definition';

const NO_ANCESTORS: readonly string[] = Object.freeze([]);

/** A pipeline as a worker runs it: its definition, fingerprint, and each step's transitive dependencies. */
export class WorkerPipeline {
  readonly definition: PipelineDefinition;
  readonly fingerprint: string;
  /** What the caller's jobs carry to compare ({@link fingerprintDigest}). */
  readonly fingerprintDigest: string;
  private readonly ancestors: (readonly string[] | undefined)[];

  constructor(pipeline: Pipeline<any, any, any>) {
    this.definition = definitionOf(pipeline);
    this.fingerprint = fingerprintOf(this.definition.graph, this.definition.outputStep);
    this.fingerprintDigest = fingerprintDigest(this.fingerprint);
    this.ancestors = new Array(this.definition.graph.ids.length);
  }

  /** True when some step depends on another (a record can ready a step; a pure fan-out's never does). */
  get hasDependencies(): boolean {
    return this.definition.graph.dependentList.length > 0;
  }

  /** The ids of step `index`'s transitive dependencies (the outputs it may read). */
  ancestorIdsOf(index: number): readonly string[] {
    const cached = this.ancestors[index];
    if (cached !== undefined) return cached;
    const graph = this.definition.graph;
    const ancestors = ancestorsOf(graph, index);
    return (this.ancestors[index] = ancestors.length === 0 ? NO_ANCESTORS : ancestors.map((ancestor) => graph.ids[ancestor]));
  }

  /**
   * Whether the record of step `stepId` readies one of its dependents: every other dependency
   * of that dependent is `completed` (as far as the caller of this knows). False for a step
   * without dependents (or not in this pipeline); true for one with many (more than
   * {@link DEPENDENTS_CHECKED}), without looking.
   */
  readiesADependent(stepId: string, completed: (stepId: string) => boolean): boolean {
    const graph = this.definition.graph;
    const index = graph.indexOf.get(stepId);
    if (index === undefined) return false;
    const first = graph.dependentStart[index];
    const end = graph.dependentStart[index + 1];
    if (end - first > DEPENDENTS_CHECKED) return true;
    for (let at = first; at < end; at++) {
      const dependencies = graph.dependencies[graph.dependentList[at]];
      if (dependencies.every((dependency) => dependency === index || completed(graph.ids[dependency]))) return true;
    }
    return false;
  }
}

/** Dependents looked at, at most, to tell whether a record readies one (a wider step readies one, as far as a worker can tell cheaply). */
const DEPENDENTS_CHECKED = 16;

/** The worker's pipelines by name. @throws PipelineValidationError for an empty list or two pipelines with one name */
export function workerPipelinesOf(pipelines: readonly Pipeline<any, any, any>[]): Map<string, WorkerPipeline> {
  if (!Array.isArray(pipelines) || pipelines.length === 0) throw new PipelineValidationError('createStepWorker needs { pipelines }: the pipelines whose steps it runs');
  const byName = new Map<string, WorkerPipeline>();
  for (const pipeline of pipelines) {
    if (byName.has(pipeline.name)) throw new PipelineValidationError(`createStepWorker: two pipelines are named '${pipeline.name}'`);
    byName.set(pipeline.name, new WorkerPipeline(pipeline));
  }
  return byName;
}
