import { PipelineValidationError } from '../errors/pipeline-validation-error';
import { checkOptionKeys, optionKeysOf } from './check-option-keys';
import { exceedsTimerLimit, timerLimitHint } from './max-timer-seconds';

/** Options of a {@link StepConfig}. Every field is optional; a field given here overrides a less specific config. */
export interface StepConfigOptions {
  /** Most seconds one attempt may take. `null` or `0`: no bound. @default null */
  timeout?: number | null;
  /** How many times a failed attempt is retried. @default 0 */
  retries?: number;
  /** Base of the exponential backoff in seconds: attempt `n` waits `retryDelay * 2 ** n`. @default 1 */
  retryDelay?: number;
  /** Budget of the step in integer microcents; `null`: none. @default null */
  costBudget?: number | null;
}

export const STEP_CONFIG_FIELDS = ['timeout', 'retries', 'retryDelay', 'costBudget'] as const;
export type StepConfigField = (typeof STEP_CONFIG_FIELDS)[number];

/** Which fields a config was given explicitly; only those override a less specific config. */
export const GIVEN_FIELDS: unique symbol = Symbol('fastroai.config.given');

const NOTHING_GIVEN: ReadonlySet<string> = new Set();

/**
 * Timeout, retries, backoff and cost budget of a step.
 *
 * Resolution, most specific wins: `PipelineConfig` → the step's own config →
 * `stepConfigs[stepId]` → per-call `ctx.run` options. A field given explicitly wins even
 * when it equals the default; a field not given inherits.
 *
 * @example
 * new StepConfig({ timeout: 30, retries: 2 })
 */
export class StepConfig {
  timeout: number | null;
  retries: number;
  retryDelay: number;
  costBudget: number | null;
  /** @internal */
  readonly [GIVEN_FIELDS]: ReadonlySet<string>;

  constructor(options: StepConfigOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new PipelineValidationError(`${new.target.name} options must be an object, got ${describeValue(options)}`);
    }
    const name = new.target.name;
    // PipelineConfig checks its wider set of keys itself, after this.
    if (!(this instanceof PipelineConfig)) checkOptionKeys(`${name} options`, options, STEP_CONFIG_FIELDS);
    this.timeout = checkOptionalSeconds(name, 'timeout', options.timeout);
    this.retries = checkCount(name, 'retries', options.retries ?? 0);
    this.retryDelay = checkSeconds(name, 'retryDelay', options.retryDelay ?? 1);
    if (exceedsTimerLimit(this.retryDelay)) {
      throw new PipelineValidationError(`${name}.retryDelay must be ${timerLimitHint()}, got ${describeValue(this.retryDelay)}`);
    }
    this.costBudget = checkOptionalMicrocents(name, 'costBudget', options.costBudget);
    const given = Object.keys(options).filter((key) => (options as Record<string, unknown>)[key] !== undefined);
    // Most configs (every `step(fn)`) give nothing: they share one empty set.
    this[GIVEN_FIELDS] = given.length === 0 ? NOTHING_GIVEN : new Set(given);
  }
}

/** Options of a {@link PipelineConfig}: the step defaults plus run-wide settings. */
export interface PipelineConfigOptions extends StepConfigOptions {
  /** Trace the run with the given tracer; `false` runs it with a `NoOpTracer`. @default true */
  trace?: boolean;
  /** `'fail'`: the first failure fails the run. `'continue'`: skip the failed step's dependents, run the rest. @default 'fail' */
  onError?: 'fail' | 'continue';
  /** Most steps of one run executing at once (an integer ≥ 1, or `Infinity`). @default Infinity */
  maxConcurrency?: number;
  /** Budget of the whole run in integer microcents, across all steps; `null`: none. @default null */
  runCostBudget?: number | null;
  /**
   * With a store, a failure under `onError: 'fail'` aborts running steps at once instead of
   * letting them finish and be recorded (so a resume does not pay for them again). Without a
   * store a run always fails fast. @default false
   */
  failFast?: boolean;
}

/** Every key `PipelineConfig` takes. */
const PIPELINE_CONFIG_KEYS: readonly string[] = optionKeysOf<PipelineConfigOptions>({
  timeout: true,
  retries: true,
  retryDelay: true,
  costBudget: true,
  trace: true,
  onError: true,
  maxConcurrency: true,
  runCostBudget: true,
  failFast: true,
});

/** Pipeline-wide defaults for every step, and run-wide settings. */
export class PipelineConfig extends StepConfig {
  trace: boolean;
  onError: 'fail' | 'continue';
  maxConcurrency: number;
  runCostBudget: number | null;
  failFast: boolean;

  constructor(options: PipelineConfigOptions = {}) {
    super(options);
    checkOptionKeys(`${new.target.name} options`, options, PIPELINE_CONFIG_KEYS);
    this.trace = options.trace ?? true;
    if (typeof this.trace !== 'boolean') {
      throw new PipelineValidationError(`PipelineConfig.trace must be a boolean, got ${describeValue(options.trace)}`);
    }
    this.onError = options.onError ?? 'fail';
    if (this.onError !== 'fail' && this.onError !== 'continue') {
      throw new PipelineValidationError(`PipelineConfig.onError must be 'fail' or 'continue', got ${describeValue(options.onError)}`);
    }
    const maxConcurrency = options.maxConcurrency ?? Infinity;
    if (!(maxConcurrency === Infinity || (Number.isInteger(maxConcurrency) && maxConcurrency >= 1))) {
      throw new PipelineValidationError(
        `PipelineConfig.maxConcurrency must be an integer from 1 and up, or Infinity, got ${describeValue(options.maxConcurrency)}`,
      );
    }
    this.maxConcurrency = maxConcurrency;
    this.runCostBudget = checkOptionalMicrocents('PipelineConfig', 'runCostBudget', options.runCostBudget);
    this.failFast = options.failFast ?? false;
    if (typeof this.failFast !== 'boolean') {
      throw new PipelineValidationError(`PipelineConfig.failFast must be a boolean, got ${describeValue(options.failFast)}`);
    }
  }
}

/** A timeout: `null` when not given; `null` and `0` mean no bound (`Infinity` is refused, as any duration above the timer limit: API.md §2). */
function checkOptionalSeconds(owner: string, field: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const seconds = checkSeconds(owner, field, value);
  if (exceedsTimerLimit(seconds)) {
    throw new PipelineValidationError(
      `${owner}.${field} must be ${timerLimitHint()}, or null for no bound, got ${describeValue(value)}`,
    );
  }
  return seconds;
}

function checkSeconds(owner: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new PipelineValidationError(`${owner}.${field} must be a number of seconds >= 0, got ${describeValue(value)}`);
  }
  return value;
}

function checkCount(owner: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new PipelineValidationError(`${owner}.${field} must be an integer >= 0, got ${describeValue(value)}`);
  }
  return value;
}

function checkOptionalMicrocents(owner: string, field: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new PipelineValidationError(`${owner}.${field} must be a number of microcents >= 0 or null, got ${describeValue(value)}`);
  }
  return value;
}

/** How a bad value is shown in an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (Array.isArray(value)) return 'an array';
  return `an object (${Object.prototype.toString.call(value)})`;
}
