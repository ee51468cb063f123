import { checkOptionKeys } from '../config/check-option-keys';
import { describeValue } from '../config/step-config';
import type { Clock } from '../clock/clock';
import { checkRunStore } from '../store/check-run-store';
import type { Tracer } from '../tracing/tracer';
import type { ExecuteOptions } from './pipeline';

/** Every key of `ExecuteOptions` (API.md §4). */
const EXECUTE_OPTION_KEYS: readonly string[] = ['tracer', 'signal', 'onEvent', 'runId', 'store', 'leaseSeconds', 'runner', 'clock'];

const TRACER_METHODS = ['span', 'logMetric', 'logError'] as const;

/**
 * The options of one run from the third argument of `execute` or `run`: a {@link Tracer}
 * (an object with a `span`, `logMetric` or `logError` member is taken for one) or
 * {@link ExecuteOptions}, checked so that a bad value fails with a message naming it
 * instead of a raw `TypeError` from deep inside the run.
 *
 * @param method `'execute'` or `'run'`, for the messages
 * @param tracerOrOptions the argument as given; `undefined` and `null` mean no options
 * @throws TypeError naming the option: an unknown key (with the nearest valid one), a tracer
 *   without `span`/`logMetric`/`logError` methods, a `signal` that is not an `AbortSignal`,
 *   an `onEvent` that is not a function, a `runId` that is not a non-empty string, a `clock`
 *   that is not a {@link Clock}
 */
export function toExecuteOptions(method: string, tracerOrOptions: unknown): ExecuteOptions {
  if (tracerOrOptions === undefined || tracerOrOptions === null) return {};
  if (typeof tracerOrOptions !== 'object') {
    throw new TypeError(`${method}() expects a Tracer or ExecuteOptions as its third argument, got ${describeValue(tracerOrOptions)}`);
  }
  if (looksLikeTracer(tracerOrOptions)) {
    checkTracer(`${method}() tracer (third argument)`, tracerOrOptions);
    return { tracer: tracerOrOptions as Tracer };
  }
  const options = tracerOrOptions as Record<string, unknown>;
  checkOptionKeys(`${method}() options`, options, EXECUTE_OPTION_KEYS, (message) => new TypeError(message));
  checkRunOptions(method, options);
  if (options.runId !== undefined && (typeof options.runId !== 'string' || options.runId === '')) {
    throw new TypeError(`${method}() options.runId must be a non-empty string, got ${describeValue(options.runId)}`);
  }
  return options as ExecuteOptions;
}

/**
 * Checks the options `execute`, `run` and `resume` share (`tracer`, `signal`, `onEvent`,
 * `clock`, `store`, `runner`), so that a bad one fails before the run starts, with a message
 * naming it: a `resume` must not claim its run and then fail on a bad `signal`.
 *
 * @param method `'execute'`, `'run'` or `'resume'`, for the messages
 * @throws TypeError naming the option
 */
export function checkRunOptions(method: string, options: Record<string, unknown>): void {
  if (options.tracer !== undefined) checkTracer(`${method}() options.tracer`, options.tracer);
  if (options.signal !== undefined && !isAbortSignal(options.signal)) {
    throw new TypeError(`${method}() options.signal must be an AbortSignal, got ${describeValue(options.signal)}`);
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new TypeError(`${method}() options.onEvent must be a function, got ${describeValue(options.onEvent)}`);
  }
  if (options.clock !== undefined) checkClock(`${method}() options.clock`, options.clock);
  if (options.store !== undefined) checkRunStore(`${method}() options.store`, options.store);
  if (options.runner !== undefined && (typeof options.runner !== 'object' || options.runner === null || typeof (options.runner as Record<string, unknown>).runStep !== 'function')) {
    throw new TypeError(`${method}() options.runner must be a StepRunner (a runStep method), got ${describeValue(options.runner)}`);
  }
}

const CLOCK_METHODS = ['now', 'monotonicMs', 'setTimeout', 'clearTimeout'] as const;

/**
 * Checks that `value` is a {@link Clock} (its four methods), so a bad `clock` option fails
 * with a message naming it.
 * @throws TypeError naming the option and the missing methods
 */
export function checkClock(what: string, value: unknown): void {
  const missing =
    typeof value === 'object' && value !== null
      ? CLOCK_METHODS.filter((method) => typeof (value as Record<string, unknown>)[method] !== 'function')
      : CLOCK_METHODS;
  if (missing.length > 0) {
    throw new TypeError(`${what} must be a Clock (now, monotonicMs, setTimeout and clearTimeout methods), got ${describeValue(value)}`);
  }
}

function looksLikeTracer(value: object): boolean {
  return TRACER_METHODS.some((method) => method in value);
}

export function checkTracer(what: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${what} must be a Tracer (span, logMetric and logError methods), got ${describeValue(value)}`);
  }
  const missing = TRACER_METHODS.filter((method) => typeof (value as Record<string, unknown>)[method] !== 'function');
  if (missing.length > 0) {
    throw new TypeError(
      `${what} must be a Tracer (span, logMetric and logError methods); it has no ${missing.join(', ')} method${missing.length > 1 ? 's' : ''}`,
    );
  }
}

/** An `AbortSignal`, from this realm or another (a jest sandbox, a polyfill): what a run uses of one. */
function isAbortSignal(value: unknown): value is AbortSignal {
  if (typeof AbortSignal !== 'undefined' && value instanceof AbortSignal) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}
