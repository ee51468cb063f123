import { Observable } from 'rxjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { PipelineConfig, StepConfig, describeValue, type PipelineConfigOptions } from '../config/step-config';
import { resolveStepConfig } from '../config/resolve-step-config';
import { checkOptionKeys, optionKeysOf } from '../config/check-option-keys';
import { checkStepConstructor } from '../di/check-step-constructor';
import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { buildStepGraph } from '../graph/build-step-graph';
import { formatIdList } from '../graph/format-id-list';
import { unknownIdError, validationErrorWithHint } from '../graph/unknown-id-hint';
import { isStepClass, isStepInstance, type StepClass, type StepLike, type StepOutput } from '../steps/base-step';
import { nameOfClass, readStepDeclaration, unknownClassId } from '../steps/read-step-declaration';
import { applyStepDeclarations } from './apply-step-declarations';
import type { DepsOfSteps } from './deps-of-steps';
import type { Tracer } from '../tracing/tracer';
import type { PipelineDefinition, StepSource } from './pipeline-definition';
import type { PipelineEvent } from './pipeline-event';
import type { PipelineResult } from './pipeline-result';
import { PipelineRun } from './pipeline-run';
import type { PipelineRunOptions } from './pipeline-run-options';
import { scanSteps } from './scan-steps';
import { toMermaidFlowchart } from './to-mermaid';
import { randomUUID } from 'node:crypto';
import { claimDurableRun, createDurableRun } from '../durable/open-durable-run';
import type { RunStore } from '../store/run-store';
import { checkRunStore } from '../store/check-run-store';
import { PipelineAbortedError } from '../errors/pipeline-aborted-error';
import type { StepRunner } from '../executor/step-runner';
import { toInputRecord } from './to-input-record';
import { reportHookFailure } from '../tracing/report-hook-failure';
import { ignoreRejection } from '../tracing/call-safely';
import { checkRunOptions, toExecuteOptions } from './to-execute-options';
import type { Clock } from '../clock/clock';

/** Options of one run. */
export interface ExecuteOptions {
  /** Traces the run (ignored when `PipelineConfig.trace` is false). @default a NoOpTracer */
  tracer?: Tracer;
  /** Cancels the run: running steps' signals abort and the run rejects with `PipelineAbortedError`. */
  signal?: AbortSignal;
  /** The run's id. @default a random UUID */
  runId?: string;
  /**
   * Receives every event of the run, as `run()` emits them (for `execute()`; `run()` is the
   * Observable form). A handler that throws is reported once (`console.warn`) and ignored.
   */
  onEvent?: (event: PipelineEvent) => void;
  /** Records the run in this store as it goes, so `resume` can continue it (API.md §12). @default the pipeline's `store` */
  store?: RunStore;
  /** How long the run's lease in the store lasts unless renewed, in seconds. @default 30 */
  leaseSeconds?: number;
  /** Runs the steps elsewhere, each as a task of plain data (API.md §13). @default this process */
  runner?: StepRunner;
  /**
   * Where the run reads time and sets timers: step timeouts, retry backoffs, the times it
   * records, lease renewals. For tests (`createVirtualClock` in `fastroai/testing`); not part
   * of the API contract. @default the system clock
   */
  clock?: Clock;
}

/** Options of {@link Pipeline.resume}. */
export interface ResumeOptions<Deps = unknown, Input = Record<string, unknown>> {
  /** Merged over the stored input (the next turn of a conversation). */
  input?: Partial<Input>;
  deps?: Deps;
  tracer?: Tracer;
  signal?: AbortSignal;
  /** Steps to run again, with their transitive dependents, even though they completed (a new generation). */
  rerun?: string[];
  /** @default the pipeline's `store` */
  store?: RunStore;
  onEvent?: (event: PipelineEvent) => void;
  /** @default 30 */
  leaseSeconds?: number;
  /** @default this process */
  runner?: StepRunner;
  /** As {@link ExecuteOptions.clock}: for tests. @default the system clock */
  clock?: Clock;
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
  /** Where this pipeline's runs are recorded unless `execute`/`resume` name another (API.md §12). */
  store?: RunStore;
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

/** Every key of {@link PipelineOptions}. */
const PIPELINE_OPTION_KEYS: readonly string[] = optionKeysOf<PipelineOptions>({
  name: true,
  steps: true,
  dependencies: true,
  outputStep: true,
  config: true,
  stepConfigs: true,
  container: true,
  store: true,
});

/** Every key of {@link ResumeOptions}. */
const RESUME_OPTION_KEYS: readonly string[] = optionKeysOf<ResumeOptions>({
  input: true,
  deps: true,
  tracer: true,
  signal: true,
  rerun: true,
  store: true,
  onEvent: true,
  leaseSeconds: true,
  runner: true,
  clock: true,
});

/** Every key of {@link FromStepsOptions}. */
const FROM_STEPS_OPTION_KEYS: readonly string[] = optionKeysOf<FromStepsOptions>({
  name: true,
  steps: true,
  outputStep: true,
  config: true,
  stepConfigs: true,
  container: true,
  store: true,
});

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
  /** The default store of this pipeline's runs. */
  readonly store: RunStore | undefined;

  constructor(options: PipelineOptions<Deps>) {
    if (typeof options !== 'object' || options === null) {
      throw new PipelineValidationError(`Pipeline options must be an object, got ${describeValue(options)}`);
    }
    checkOptionKeys('Pipeline options', options, PIPELINE_OPTION_KEYS);
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
      throw unknownIdError(`outputStep '${String(outputStep)}' not in steps`, String(outputStep), ids);
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
    if (options.store !== undefined) {
      try {
        checkRunStore('Pipeline options.store', options.store);
      } catch (error) {
        throw new PipelineValidationError((error as Error).message, { cause: error });
      }
    }
    this.store = options.store;
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
    checkOptionKeys('Pipeline.fromSteps options', options, FROM_STEPS_OPTION_KEYS);
    const { steps, dependencies } = scanSteps(options.steps);
    let outputStep = options.outputStep;
    if (typeof outputStep === 'function') {
      const id = Object.keys(steps).find((key) => steps[key] === outputStep);
      if (id === undefined) {
        throw validationErrorWithHint(
          `outputStep '${unknownClassId(outputStep, (known) => Object.hasOwn(steps, known))}' not in steps`,
          `: ${nameOfClass(outputStep)} is not among the pipeline's steps`,
        );
      }
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
   * @throws TypeError for bad options (an unknown key, a tracer without its methods, a
   *   `signal` that is not an `AbortSignal`, …). Every failure rejects the promise: `execute`
   *   never throws synchronously.
   */
  execute(input: Input, deps?: Deps, tracerOrOptions?: Tracer | ExecuteOptions): Promise<PipelineResult<Output>> {
    let options: ExecuteOptions;
    try {
      options = toExecuteOptions('execute', tracerOrOptions);
    } catch (error) {
      return Promise.reject(error);
    }
    const onEvent = options.onEvent;
    const emit = onEvent === undefined ? undefined : guardEventHandler(onEvent);
    const store = options.store ?? this.store;
    if (store === undefined && options.runner?.requiresStore === true) return Promise.reject(runnerWithoutStore('execute', options.runner));
    if (store === undefined) return new PipelineRun(this.definition, input, deps, { ...options, emit }).execute() as Promise<PipelineResult<Output>>;
    return this.openRecordedRun(input, deps, { ...options, emit }, store).then((run) => run.execute()) as Promise<PipelineResult<Output>>;
  }

  /**
   * Continues a recorded run (API.md §12): after an INCOMPLETE stop (the next turn of a
   * conversation), a failure, a cancellation or a crash, in this process or another one. What
   * completed is restored, not executed (nor paid for) again; every other step runs.
   *
   * @param runId the run to continue (`result.runId`, `pipeline.started`'s `runId`)
   * @throws RunNotFoundError, RunLockedError (another process holds the run), PipelineValidationError
   *   (the run was recorded by another graph, or `rerun` names an unknown step)
   */
  resume(runId: string, options: ResumeOptions<Deps, Input> = {}): Promise<PipelineResult<Output>> {
    if (typeof runId !== 'string' || runId === '') {
      return Promise.reject(new PipelineValidationError(`resume expects a run id (a non-empty string), got ${describeValue(runId)}`));
    }
    try {
      if (typeof options !== 'object' || options === null) throw new TypeError(`resume() options must be an object, got ${describeValue(options)}`);
      checkOptionKeys('resume() options', options, RESUME_OPTION_KEYS, (message) => new TypeError(message));
      checkRunOptions('resume', options as Record<string, unknown>);
      checkRerun(options.rerun);
    } catch (error) {
      return Promise.reject(error);
    }
    const store = options.store ?? this.store;
    if (store === undefined) {
      return Promise.reject(new PipelineValidationError(`resume('${runId}') needs a store: pass { store } or give the pipeline one`));
    }
    // Before the claim: an aborted resume leaves the run as it was (a completed run stays completed).
    if (options.signal?.aborted) return Promise.reject(new PipelineAbortedError(this.name, options.signal.reason));
    const emit = options.onEvent === undefined ? undefined : guardEventHandler(options.onEvent);
    return Promise.resolve()
      .then(() =>
        claimDurableRun(this.definition, runId, { store, input: options.input, rerun: options.rerun, leaseMs: leaseMsOf(options.leaseSeconds), clock: options.clock }),
      )
      .then(({ durable, input }) =>
      new PipelineRun(this.definition, input, options.deps, { tracer: options.tracer, signal: options.signal, emit, durable, runner: options.runner, clock: options.clock }).execute(),
    ) as Promise<PipelineResult<Output>>;
  }

  /** Creates the run's record in `store`, then the run that records into it. */
  private openRecordedRun(input: Input, deps: Deps | undefined, options: PipelineRunOptions & ExecuteOptions, store: RunStore): Promise<PipelineRun> {
    const runId = options.runId ?? randomUUID();
    return Promise.resolve()
      .then(() => createDurableRun(this.definition, toInputRecord(input), runId, { store, leaseMs: leaseMsOf(options.leaseSeconds), clock: options.clock }))
      .then((durable) => new PipelineRun(this.definition, input, deps, { ...options, durable }));
  }

  /**
   * The run as a cold stream of progress events: subscribing starts a run, unsubscribing
   * cancels it. It ends with `pipeline.completed`, or errors as `execute` rejects (bad
   * options included).
   *
   * @param tracerOrOptions a tracer, or {@link ExecuteOptions}, as for `execute`
   */
  run(input: Input, deps?: Deps, tracerOrOptions?: Tracer | ExecuteOptions): Observable<PipelineEvent<Output>> {
    return new Observable<PipelineEvent<Output>>((subscriber) => {
      let options: ExecuteOptions;
      try {
        options = toExecuteOptions('run', tracerOrOptions);
      } catch (error) {
        subscriber.error(error);
        return undefined;
      }
      const onEvent = options.onEvent === undefined ? undefined : guardEventHandler(options.onEvent);
      const runOptions = {
        ...options,
        emit: (event: PipelineEvent) => {
          onEvent?.(event);
          subscriber.next(event as PipelineEvent<Output>);
        },
      };
      const start = (run: PipelineRun) => {
        // Before the run starts: a subscriber that unsubscribes inside next() (take(1),
        // firstValueFrom) at pipeline.started or step.started cancels the run at once.
        subscriber.add(() => run.cancel('unsubscribed'));
        run.execute().then(
          () => subscriber.complete(),
          (error: unknown) => subscriber.error(error),
        );
      };
      const store = options.store ?? this.store;
      if (store === undefined && options.runner?.requiresStore === true) subscriber.error(runnerWithoutStore('run', options.runner));
      else if (store === undefined) start(new PipelineRun(this.definition, input, deps, runOptions));
      else this.openRecordedRun(input, deps, runOptions, store).then(start, (error: unknown) => subscriber.error(error));
    });
  }

  /** The DAG as a Mermaid `flowchart`. */
  toMermaid(): string {
    return toMermaidFlowchart(this.definition.graph);
  }
}

/** A run refused before it starts: its runner's steps travel through a store, and it has none. */
function runnerWithoutStore(method: string, runner: StepRunner): PipelineValidationError {
  const name = runner.constructor === Object ? 'The runner' : runner.constructor.name;
  return new PipelineValidationError(`${name} needs a store: pass { store } to ${method}() or give the pipeline one (workers read and record steps there)`);
}

/** `rerun` must list step ids: a string would be read one character at a time. */
function checkRerun(rerun: unknown): void {
  if (rerun === undefined) return;
  if (!Array.isArray(rerun) || rerun.some((id) => typeof id !== 'string')) {
    throw new TypeError(`resume() options.rerun must be an array of step ids, got ${describeValue(rerun)}`);
  }
}

/** A lease in ms from seconds (undefined: the default). */
function leaseMsOf(leaseSeconds: number | undefined): number | undefined {
  if (leaseSeconds === undefined) return undefined;
  if (typeof leaseSeconds !== 'number' || !(leaseSeconds > 0) || leaseSeconds * 1000 > 2 ** 31 - 1) {
    throw new PipelineValidationError(`leaseSeconds must be a number of seconds > 0 (at most 2^31-1 ms), got ${describeValue(leaseSeconds)}`);
  }
  return leaseSeconds * 1000;
}

/** `handler`, made unable to affect the run: a throw is reported once and ignored. */
function guardEventHandler(handler: (event: PipelineEvent) => void): (event: PipelineEvent) => void {
  return (event) => {
    try {
      ignoreRejection(handler, 'onEvent handler', handler(event) as unknown);
    } catch (error) {
      reportHookFailure(handler, 'onEvent handler', error);
    }
  };
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
  // A frozen copy, checked again: a field assigned after construction (`config.maxConcurrency = 0`)
  // is validated like one given to the constructor, and a later assignment does not reach the
  // built pipeline.
  if (config instanceof PipelineConfig) return Object.freeze(new PipelineConfig(pipelineConfigFieldsOf(config)));
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
    if (!Object.hasOwn(steps, id)) {
      throw unknownIdError(`stepConfigs for unknown step: '${id}'`, id, Object.keys(steps));
    }
    if (config instanceof StepConfig) configs[id] = config;
    else if (typeof config === 'object' && config !== null) configs[id] = new StepConfig(config);
    else throw new PipelineValidationError(`stepConfigs['${id}'] must be a StepConfig, got ${describeValue(config)}`);
  }
  return configs;
}

/** A PipelineConfig's fields as its constructor takes them. */
function pipelineConfigFieldsOf(config: PipelineConfig): PipelineConfigOptions {
  const { timeout, retries, retryDelay, costBudget, trace, onError, maxConcurrency, runCostBudget, failFast } = config;
  return { timeout, retries, retryDelay, costBudget, trace, onError, maxConcurrency, runCostBudget, failFast };
}
