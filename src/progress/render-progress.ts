import type { Observable, Subscription } from 'rxjs';
import { PipelineAbortedError } from '../errors/pipeline-aborted-error';
import type { PipelineEvent } from '../pipeline/pipeline-event';
import type { PipelineResult } from '../pipeline/pipeline-result';
import { LiveView, type TerminalStream } from './live-view';
import { PlainView } from './plain-view';
import { ProgressState, messageOf } from './progress-state';
import type { ProgressView } from './progress-view';
import { watchInterrupts, type SignalProcess } from './watch-interrupts';

/** Options of {@link renderProgress}. */
export interface RenderProgressOptions {
  /**
   * Where to draw. A terminal (`isTTY`) gets the live view; anything else (a pipe, a file, CI)
   * gets plain log lines.
   * @default process.stdout
   */
  output?: NodeJS.WritableStream;
  /**
   * Columns a line may take; longer lines are cut with `…`. Plain lines are cut only when it
   * is given.
   * @default on a terminal, its `columns` (else 80)
   */
  width?: number;
}

/** What {@link renderProgressWith} takes from its surroundings; tests pass fakes. */
export interface ProgressEnvironment {
  /** Milliseconds on a monotonic clock. */
  now: () => number;
  /** Signals to watch while the live view draws. */
  process: SignalProcess;
  /** How long after Ctrl-C the signal is raised again (the cancelled run tears down meanwhile). @default 0 */
  interruptGraceMs?: number;
}

/** The grace `renderProgress` gives a run cancelled by Ctrl-C before the signal ends the process. */
export const INTERRUPT_GRACE_MS = 1_000;

/**
 * Draws a run's progress: subscribes to `events` (which starts the run) and resolves with the
 * run's result (from `pipeline.completed`). On a terminal: a bar of finished/total steps with
 * the elapsed time and the cost so far, one line per step (state, attempt, time, cost),
 * "level k done" lines above them. Elsewhere: one plain line per event.
 *
 * The terminal is restored (cursor shown, line ended) when the run completes, when it fails
 * (the promise rejects with the run's error, e.g. the `StepExecutionError`) and on Ctrl-C:
 * SIGINT (or SIGTERM) cancels the run by unsubscribing, restores the terminal, rejects with
 * `PipelineAbortedError`, and then, a second later (the cancelled run tears down meanwhile: a
 * distributed run's remote steps are told to stop, a store's run is marked aborted), lets the
 * signal do what it would have done (with no other listener, the process ends). A second
 * Ctrl-C ends it at once.
 *
 * @param events a run's progress stream: `pipeline.run(input, deps)`
 * @returns the run's result; rejects as the stream errors
 * @example
 * import { renderProgress } from 'fastroai/progress';
 * const result = await renderProgress(pipeline.run({ document }, deps));
 * @see Pipeline.run
 */
export function renderProgress<Output = unknown>(
  events: Observable<PipelineEvent<Output>>,
  options: RenderProgressOptions = {},
): Promise<PipelineResult<Output>> {
  return renderProgressWith(events, options, { now: () => performance.now(), process, interruptGraceMs: INTERRUPT_GRACE_MS });
}

/**
 * {@link renderProgress} with its clock and process given. Internal: the package exports only
 * `renderProgress`.
 */
export function renderProgressWith<Output>(
  events: Observable<PipelineEvent<Output>>,
  options: RenderProgressOptions,
  environment: ProgressEnvironment,
): Promise<PipelineResult<Output>> {
  let output: TerminalStream & { isTTY?: boolean };
  try {
    output = checkOptions(events, options);
  } catch (error) {
    return Promise.reject(error);
  }
  const state = new ProgressState(environment.now);
  const live = output.isTTY === true;
  const view: ProgressView = live ? new LiveView(output, state, options.width) : new PlainView(output, state, options.width);

  return new Promise<PipelineResult<Output>>((resolve, reject) => {
    let result: PipelineResult<Output> | undefined;
    let settled = false;
    let subscription: Subscription | undefined;
    let stopWatching = () => {};

    const settle = (message: string, outcome: () => void) => {
      if (settled) return;
      settled = true;
      stopWatching();
      view.end(message);
      outcome();
    };

    if (live) {
      stopWatching = watchInterrupts(environment.process, {
        interrupted: (signal) => {
          settle(`interrupted (${signal})`, () => reject(new PipelineAbortedError(state.pipeline, new Error(`interrupted by ${signal}`))));
          subscription?.unsubscribe();
        },
        exiting: () => view.restore(),
      }, environment.interruptGraceMs);
    }
    view.start();
    subscription = events.subscribe({
      next: (event) => {
        if (settled) return;
        if (event.type === 'pipeline.completed') result = event.result;
        state.apply(event as PipelineEvent);
        view.handle(event as PipelineEvent);
      },
      error: (error: unknown) => settle(`failed: ${messageOf(error)}`, () => reject(error)),
      complete: () => {
        if (result === undefined) {
          settle('ended without a result', () => reject(new Error('The progress stream completed without a pipeline.completed event')));
        } else {
          const final = result;
          settle(state.summary(final), () => resolve(final));
        }
      },
    });
    // The stream may have ended (or been interrupted) while subscribing.
    if (settled) subscription.unsubscribe();
  });
}

function checkOptions(events: unknown, options: unknown): TerminalStream & { isTTY?: boolean } {
  if (typeof (events as { subscribe?: unknown } | null)?.subscribe !== 'function') {
    throw new TypeError(`renderProgress expects a run's event stream (pipeline.run(...)), got ${describe(events)}`);
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`renderProgress options must be an object, got ${describe(options)}`);
  }
  const { output, width } = options as RenderProgressOptions;
  if (output !== undefined && typeof (output as { write?: unknown } | null)?.write !== 'function') {
    throw new TypeError(`renderProgress output must be a writable stream, got ${describe(output)}`);
  }
  if (width !== undefined && (typeof width !== 'number' || !Number.isInteger(width) || width < 10)) {
    throw new TypeError(`renderProgress width must be an integer >= 10 (columns), got ${describe(width)}`);
  }
  return (output ?? process.stdout) as TerminalStream & { isTTY?: boolean };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value === 'object' || typeof value === 'function') return `a ${typeof value} (${Object.prototype.toString.call(value)})`;
  return `${typeof value} ${String(value)}`;
}
