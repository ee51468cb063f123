import { FastroAIError } from '../errors/fastroai-error';
import { formatIdList } from '../graph/format-id-list';
import type { Pipeline } from '../pipeline/pipeline';
import type { PipelineResult } from '../pipeline/pipeline-result';
import type { Tracer } from '../tracing/tracer';

/**
 * Chooses one of several registered pipelines per input. Implement `route`.
 *
 * @example
 * class DocumentRouter extends BasePipeline<Deps, { text: string }, Summary> {
 *   route(input: { text: string }) { return input.text.length > 1000 ? 'complex' : 'simple'; }
 * }
 */
export abstract class BasePipeline<Deps = unknown, Input = Record<string, unknown>, Output = unknown> {
  readonly name: string;
  private readonly pipelines = new Map<string, Pipeline<Deps, Input, Output>>();

  constructor(name: string) {
    this.name = name;
  }

  /** Makes `pipeline` available to `route` under `name` (a later registration replaces it). */
  registerPipeline(name: string, pipeline: Pipeline<Deps, Input, Output>): void {
    this.pipelines.set(name, pipeline);
  }

  /** The name of the registered pipeline that should handle `input`. */
  abstract route(input: Input, deps: Deps): Promise<string> | string;

  /**
   * Routes `input` and runs the chosen pipeline.
   *
   * @throws FastroAIError `Unknown pipeline: 'x'. Registered: [...]` when `route` names none
   */
  async execute(input: Input, deps?: Deps, tracer?: Tracer): Promise<PipelineResult<Output>> {
    const name = await this.route(input, deps as Deps);
    const pipeline = this.pipelines.get(name);
    if (pipeline === undefined) {
      throw new FastroAIError(`Unknown pipeline: '${name}'. Registered: ${formatIdList(this.pipelines.keys())}`);
    }
    return pipeline.execute(input, deps, tracer);
  }
}
