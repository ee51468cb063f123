import { reportHookFailure } from '../tracing/report-hook-failure';
import { SPAN_GRACE_MS } from '../tracing/run-in-span';
import type { Tracer } from '../tracing/tracer';
import type { PipelineResult } from './pipeline-result';

/** What beginning a run inside its tracer's span needs from the run. */
export interface BeginningRun {
  readonly runId: string;
  readonly tracer: Tracer;
  /** True once the run began: `begin` then does nothing. */
  readonly started: boolean;
  /** True once the run ended: `begin` then does nothing. */
  readonly finished: boolean;
  /** Starts the scheduler: once, and not after the run ended. */
  begin(): void;
}

/**
 * Begins `run` inside its tracer's `pipeline.<name>` span. The run's outcome is its own
 * (`settled`), never the span's: a span that calls `fn` late, twice or never, returns
 * something else, or throws, cannot start the run twice, keep it from settling on abort, or
 * change its result (API.md §10). A span that settles without calling `fn`, throws, or holds
 * the run for {@link SPAN_GRACE_MS} without calling `fn` (a span that never calls it
 * and never settles would hang the run), is reported and the run goes on untraced.
 *
 * @param settled the run's outcome, returned to the span as its function's result
 */
export function beginInPipelineSpan(run: BeginningRun, pipeline: string, settled: Promise<PipelineResult<unknown>>): void {
  const tracer = run.tracer;
  const name = `pipeline.${pipeline}`;
  let grace: NodeJS.Timeout | undefined;
  const body = () => {
    if (grace !== undefined) clearTimeout(grace);
    run.begin();
    return settled;
  };
  let span: unknown;
  try {
    span = tracer.span(name, body, { pipeline, runId: run.runId });
  } catch (error) {
    reportHookFailure(tracer, `tracer span '${name}'`, error);
    run.begin();
    return;
  }
  const beginUntraced = (error?: unknown) => {
    if (grace !== undefined) clearTimeout(grace);
    if (run.started || run.finished) return;
    reportHookFailure(tracer, `tracer span '${name}'`, error ?? new Error('the span settled without calling its function'));
    run.begin();
  };
  // Kept alive (not unref'd): a run held by such a span must not let the process exit under it.
  if (!run.started) grace = setTimeout(() => beginUntraced(new Error(`the span did not call its function within ${SPAN_GRACE_MS} ms`)), SPAN_GRACE_MS);
  Promise.resolve(span).then(() => beginUntraced(), beginUntraced);
}
