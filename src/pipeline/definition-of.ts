import type { Pipeline } from './pipeline';
import type { PipelineDefinition } from './pipeline-definition';

/** @internal A pipeline's validated definition (for the distributed worker, which runs steps of it outside `execute`). */
export function definitionOf(pipeline: Pipeline<any, any, any>): PipelineDefinition {
  return (pipeline as unknown as { definition: PipelineDefinition }).definition;
}
