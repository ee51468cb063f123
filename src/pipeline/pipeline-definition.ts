import type { DependencyContainer } from 'tsyringe';
import type { PipelineConfig, StepConfig } from '../config/step-config';
import type { StepGraph } from '../graph/step-graph';
import type { StepClass, StepLike } from '../steps/base-step';

/** A step as declared: an instance used by every run, or a class resolved from DI per run. */
export type StepSource = { readonly instance: StepLike; readonly stepClass?: undefined } | { readonly instance?: undefined; readonly stepClass: StepClass };

/** Everything a run needs from its pipeline, validated and precomputed once at construction. */
export interface PipelineDefinition {
  readonly name: string;
  readonly graph: StepGraph;
  readonly outputStep: string;
  readonly sources: readonly StepSource[];
  /** Each step's config, resolved: pipeline defaults → the step's own → `stepConfigs[id]`. */
  readonly configs: readonly StepConfig[];
  readonly config: PipelineConfig;
  readonly container: DependencyContainer;
}
