import { fingerprintOf } from '../durable/fingerprint-of';
import { fingerprintDigest } from './fingerprint-digest';
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
  /** Marks of the steps visited by one `ancestorIdsOf` walk (cleared after it): no array per step. */
  private visited: Uint8Array | undefined;

  constructor(pipeline: Pipeline<any, any, any>) {
    this.definition = definitionOf(pipeline);
    this.fingerprint = fingerprintOf(this.definition.graph, this.definition.outputStep);
    this.fingerprintDigest = fingerprintDigest(this.fingerprint);
    this.ancestors = new Array(this.definition.graph.ids.length);
  }

  /** The ids of step `index`'s transitive dependencies (the outputs it may read). */
  ancestorIdsOf(index: number): readonly string[] {
    const cached = this.ancestors[index];
    if (cached !== undefined) return cached;
    const graph = this.definition.graph;
    if (graph.dependencies[index].length === 0) return (this.ancestors[index] = NO_ANCESTORS);
    const seen = (this.visited ??= new Uint8Array(graph.ids.length));
    const stack = [...graph.dependencies[index]];
    const visited: number[] = [];
    while (stack.length > 0) {
      const dependency = stack.pop()!;
      if (seen[dependency] === 1) continue;
      seen[dependency] = 1;
      visited.push(dependency);
      stack.push(...graph.dependencies[dependency]);
    }
    for (const dependency of visited) seen[dependency] = 0;
    const ids = visited.map((dependency) => graph.ids[dependency]);
    this.ancestors[index] = ids;
    return ids;
  }
}

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
