import { Observable } from 'rxjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { PipelineConfig, StepConfig, describeValue } from '../config/step-config';
import { resolveStepConfig } from '../config/resolve-step-config';
import { checkStepConstructor } from '../di/check-step-constructor';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { buildStepGraph } from '../graph/build-step-graph';
import { formatIdList } from '../graph/format-id-list';
import { isStepClass, isStepInstance, type StepClass, type StepLike, type StepOutput } from '../steps/base-step';
import { nameOfClass, readStepDeclaration } from '../steps/read-step-declaration';
import { applyStepDeclarations } from './apply-step-declarations';
import type { DepsOfSteps } from './deps-of-steps';
import type { Tracer } from '../tracing/tracer';
import type { PipelineDefinition, StepSource } from './pipeline-definition';
import type { PipelineEvent } from './pipeline-event';
import type { PipelineResult } from './pipeline-result';
import { PipelineRun } from './pipeline-run';
import { scanSteps } from './scan-steps';
import { toMermaidFlowchart } from './to-mermaid';

/** Options of one run. */
export interface ExecuteOptions {
  /** Traces the run (ignored when `PipelineConfig.trace` is false). @default a NoOpTracer */
  tracer?: Tracer;
  /** Cancels the run: running steps' signals abort and the run rejects with `PipelineAbortedError`. */
  signal?: AbortSignal;
  /** The run's id. @default a random UUID */
  runId?: string;
}

/** Options of a {@link Pipeline}. */
export interface PipelineOptions<Deps = unknown> {
  name: string;
  /** Steps by id: instances (shared by runs) or step classes (resolved from DI per run). */
  steps: Record<string, StepLike<Deps, unknown> | StepClass>;
  /** Each step's direct dependencies, by id. */
  dependencies?: Record<string, string[]>;
  /** The step whose output is the run's output. @default the single step of the last level */
  outputStep?: string;
  config?: PipelineConfig;
  stepConfigs?: Record<string, StepConfig>;
  /** Where class steps are resolved from (a child per run). @default tsyringe's root container */
  container?: DependencyContainer;
}

/** Options of {@link Pipeline.fromSteps}: step classes instead of a record and `dependencies`. */
export interface FromStepsOptions<Deps = unknown> extends Omit<PipelineOptions<Deps>, 'steps' | 'dependencies' | 'outputStep'> {
  /**
   * `@Step` classes; their ids and `@DependsOn` make the DAG. Levels list them in this order.
   * The pipeline's `Deps` is inferred from them: every step's `execute(ctx: StepContext<Deps>)`.
   */
  steps: readonly StepClass<StepLike<Deps, unknown>>[];
  /** The step whose output is the run's output, by id or class. @default the single step of the last level */
  outputStep?: string | StepClass;
}

/**
 * A declarative DAG of steps. Each step starts as soon as its own dependencies finished, so a
 * run takes the DAG's critical path, not the sum of its levels.
 *
 * @example
 * const pipeline = new Pipeline({
 *   name: 'document_processor',
 *   steps: { extract, classify, summarize },
 *   dependencies: { classify: ['extract'], summarize: ['classify'] },
 * });
 * const result = await pipeline.execute({ document }, deps);
 */
export class Pipeline<Deps = unknown, Input = Record<string, unknown>, Output = unknown> {
  readonly name: string;
  readonly outputStep: string;
  /** Level 0: steps without dependencies; a step's level is 1 + the highest of its dependencies'. */
  readonly levels: string[][];
  /** @internal */
  protected readonly definition: PipelineDefinition;

  constructor(options: PipelineOptions<Deps>) {
    if (typeof options !== 'object' || options === null) {
      throw new PipelineValidationError(`Pipeline options must be an object, got ${describeValue(options)}`);
    }
    const { name, steps, dependencies, outputStep, stepConfigs } = options;
    if (typeof name !== 'string' || name === '') {
      throw new PipelineValidationError(`Pipeline name must be a non-empty string, got ${describeValue(name)}`);
    }
    if (typeof steps !== 'object' || steps === null || Array.isArray(steps)) {
      throw new PipelineValidationError(`Pipeline '${name}': steps must be an object of steps by id, got ${describeValue(steps)}`);
    }
    const ids = Object.keys(steps);
    const sources = ids.map((id) => toStepSource(id, steps[id]));
    if (outputStep !== undefined && !Object.hasOwn(steps, outputStep)) {
      throw new PipelineValidationError(`outputStep '${String(outputStep)}' not in steps`);
    }
    // A @Step class must sit under its own id; @DependsOn of decorated steps adds to `dependencies`.
    const graph = buildStepGraph(ids, applyStepDeclarations(steps, dependencies) as Record<string, unknown> | undefined);
    const config = toPipelineConfig(options.config);
    const perStep = toStepConfigs(stepConfigs, steps);
    const lastLevel = graph.levels[graph.levels.length - 1];
    if (outputStep === undefined && lastLevel.length > 1) {
      throw new PipelineValidationError(`Multiple terminal steps: ${formatIdList(lastLevel)}. Specify outputStep explicitly.`);
    }
    this.name = name;
    this.outputStep = outputStep ?? lastLevel[0];
    this.levels = graph.levels.map((level) => [...level]);
    const container = options.container ?? rootContainer;
    sources.forEach((source, index) => {
      if (source.stepClass !== undefined) checkStepConstructor(ids[index], source.stepClass, container);
    });
    this.definition = {
      name,
      graph,
      outputStep: this.outputStep,
      sources,
      configs: sources.map((source, index) => resolveStepConfig(config, ownConfigOf(source), perStep[ids[index]])),
      config,
      container,
    };
  }

  // With no type arguments, Deps is read from the step classes and the output type from
  // `outputStep`. An explicit `<Deps>` skips the first two overloads (TypeScript infers all type
  // arguments or none, TypeScript#26242), so the output is then unknown.
  /**
   * Builds a pipeline from `@Step` classes: ids and configs from `@Step`, the DAG from
   * `@DependsOn`. The same as `new Pipeline({ steps, dependencies })` with the record and
   * dependencies read from the decorators (see `scanSteps`).
   *
   * @throws PipelineValidationError naming the class: no `@Step`, no `execute`, two classes
   *   with one id, `@DependsOn` without `@Step` or on a class not among `steps`, a thunk that
   *   returns nothing, invalid `@Step` options; and every error of the constructor
   * @example
   * // Pipeline<AppDeps, Record<string, unknown>, Classification>, from the steps' types
   * const pipeline = Pipeline.fromSteps({ name: 'document_processor', steps: [ExtractStep, ClassifyStep], outputStep: ClassifyStep });
   */
  static fromSteps<const S extends readonly StepClass[], C extends StepClass>(
    options: FromStepsOptions<DepsOfSteps<S>> & { steps: S; outputStep: C },
  ): Pipeline<DepsOfSteps<S>, Record<string, unknown>, StepOutput<C>>;
  static fromSteps<const S extends readonly StepClass[]>(
    options: FromStepsOptions<DepsOfSteps<S>> & { steps: S },
  ): Pipeline<DepsOfSteps<S>, Record<string, unknown>, unknown>;
  static fromSteps<Deps = unknown, Input = Record<string, unknown>, C extends StepClass = StepClass>(
    options: FromStepsOptions<Deps> & { outputStep: C },
  ): Pipeline<Deps, Input, StepOutput<C>>;
  static fromSteps<Deps = unknown, Input = Record<string, unknown>, Output = unknown>(options: FromStepsOptions<Deps>): Pipeline<Deps, Input, Output>;
  static fromSteps(options: FromStepsOptions<unknown>): Pipeline<unknown, Record<string, unknown>, unknown> {
    if (typeof options !== 'object' || options === null) {
      throw new PipelineValidationError(`Pipeline.fromSteps options must be an object, got ${describeValue(options)}`);
    }
    const { steps, dependencies } = scanSteps(options.steps);
    let outputStep = options.outputStep;
    if (typeof outputStep === 'function') {
      const id = Object.keys(steps).find((key) => steps[key] === outputStep);
      if (id === undefined) throw new PipelineValidationError(`outputStep ${nameOfClass(outputStep)} is not among the pipeline's steps`);
      outputStep = id;
    }
    return new Pipeline({ ...options, steps, dependencies, outputStep });
  }

  /**
   * Runs the pipeline and resolves with its result.
   *
   * @param input the run's input (`ctx.getInput`); not a plain object: wrapped as `{ data: input }`
   * @param deps your dependencies (`ctx.deps`, and the `DEPS` token for class steps)
   * @param tracerOrOptions a tracer, or {@link ExecuteOptions}
   * @throws StepExecutionError the first failure under `onError: 'fail'`
   * @throws PipelineAbortedError when `signal` aborts
   */
  execute(input: Input, deps?: Deps, tracerOrOptions?: Tracer | ExecuteOptions): Promise<PipelineResult<Output>> {
    const options: ExecuteOptions = isTracer(tracerOrOptions) ? { tracer: tracerOrOptions } : (tracerOrOptions ?? {});
    return new PipelineRun(this.definition, input, deps, options).execute() as Promise<PipelineResult<Output>>;
  }

  /**
   * The run as a cold stream of progress events: subscribing starts a run, unsubscribing
   * cancels it. It ends with `pipeline.completed`, or errors as `execute` rejects.
   */
  run(input: Input, deps?: Deps, options: ExecuteOptions = {}): Observable<PipelineEvent<Output>> {
    return new Observable<PipelineEvent<Output>>((subscriber) => {
      const run = new PipelineRun(this.definition, input, deps, {
        ...options,
        emit: (event) => subscriber.next(event as PipelineEvent<Output>),
      });
      run.execute().then(
        () => subscriber.complete(),
        (error: unknown) => subscriber.error(error),
      );
      return () => run.cancel('unsubscribed');
    });
  }

  /** The DAG as a Mermaid `flowchart`. */
  toMermaid(): string {
    return toMermaidFlowchart(this.definition.graph);
  }
}

function isTracer(value: unknown): value is Tracer {
  return typeof value === 'object' && value !== null && typeof (value as { span?: unknown }).span === 'function';
}

function toStepSource(id: string, value: unknown): StepSource {
  if (isStepClass(value)) return { stepClass: value };
  if (isStepInstance(value)) return { instance: value };
  throw new PipelineValidationError(
    `Step '${id}' is not a step: expected an object with an execute(ctx) method (a BaseStep, or step(fn)) or a step class, got ${describeValue(value)}`,
  );
}

function ownConfigOf(source: StepSource): StepConfig | undefined {
  if (source.instance !== undefined) {
    const config = source.instance.config;
    // An instance of a @Step class without a config of its own takes the class's @Step config.
    if (config === undefined) return readStepDeclaration(source.instance.constructor)?.config;
    if (config instanceof StepConfig) return config;
    return new StepConfig(config);
  }
  return readStepDeclaration(source.stepClass)?.config;
}

function toPipelineConfig(config: unknown): PipelineConfig {
  if (config === undefined) return new PipelineConfig();
  if (config instanceof PipelineConfig) return config;
  if (config instanceof StepConfig || (typeof config === 'object' && config !== null && !Array.isArray(config))) {
    return new PipelineConfig(config as Record<string, never>);
  }
  throw new PipelineValidationError(`Pipeline config must be a PipelineConfig, got ${describeValue(config)}`);
}

/** `stepConfigs` checked, in a prototype-less record: a step named `constructor` or `toString` has no config by inheritance. */
function toStepConfigs(stepConfigs: unknown, steps: Record<string, unknown>): Record<string, StepConfig> {
  const configs: Record<string, StepConfig> = Object.create(null);
  if (stepConfigs === undefined) return configs;
  if (typeof stepConfigs !== 'object' || stepConfigs === null || Array.isArray(stepConfigs)) {
    throw new PipelineValidationError(`stepConfigs must be an object of StepConfigs by step id, got ${describeValue(stepConfigs)}`);
  }
  for (const [id, config] of Object.entries(stepConfigs)) {
    if (!Object.hasOwn(steps, id)) throw new PipelineValidationError(`stepConfigs for unknown step: '${id}'`);
    if (config instanceof StepConfig) configs[id] = config;
    else if (typeof config === 'object' && config !== null) configs[id] = new StepConfig(config);
    else throw new PipelineValidationError(`stepConfigs['${id}'] must be a StepConfig, got ${describeValue(config)}`);
  }
  return configs;
}
