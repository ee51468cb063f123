/**
 * The pipeline of the process tests (tests/durable/caller-crash.test.ts): the diamond + chain
 * of ../../support/diamond-chain-pipeline.ts, whose outputs carry a Date, a Map, a Set and a
 * BigInt, so a resumed dependent sees the codec's round trip.
 *
 * Each step appends `<label> <stepId>` to a ledger file outside the store BEFORE its work, so
 * the test counts executions across processes. The step named `block` then hangs (the process
 * is killed while it is in flight); the step named `hold` waits for `release` (a resume that
 * keeps its lease until the test lets it finish, for the concurrent resume test).
 */
import { appendFileSync } from 'node:fs';
import type { Pipeline, PipelineResult, StepContext } from 'fastroai';
import { sleep } from '../../support/async-helpers';
import { DIAMOND_CHAIN_INPUT, DIAMOND_CHAIN_STEPS, diamondChainPipeline, summarizeOutputs, type OutputsSummary } from '../../support/diamond-chain-pipeline';

export { STEP_COSTS_MICROCENTS } from '../../support/diamond-chain-pipeline';

/** Step ids in declaration order. */
export const CRASH_PIPELINE_STEPS = DIAMOND_CHAIN_STEPS;

/** The run's input (the same in every process). */
export const CRASH_PIPELINE_INPUT = DIAMOND_CHAIN_INPUT;

/** Options of {@link crashPipeline}. */
export interface CrashPipelineOptions {
  /** The ledger file every step appends to before its work. */
  ledger: string;
  /** Who executed: written in each ledger line. */
  label: string;
  /** A step that hangs after its ledger line (until the process is killed). */
  block?: string;
  /** A step that waits for `release` after its ledger line. */
  hold?: string;
  /** Lets the `hold` step go on once it settles. */
  release?: Promise<unknown>;
}

/** The diamond + chain pipeline, writing to `options.ledger`. */
export function crashPipeline(options: CrashPipelineOptions): Pipeline {
  const { ledger, label, block, hold, release } = options;
  /** The ledger line, then the hang (the in-flight step of a crash) or the hold. */
  const begin = async (ctx: StepContext): Promise<boolean> => {
    appendFileSync(ledger, `${label} ${ctx.stepId}\n`);
    if (ctx.stepId === block) await sleep(600_000, ctx.signal);
    if (ctx.stepId === hold) await release;
    return true;
  };
  return diamondChainPipeline({ name: 'crash-resume', label, begin });
}

/** A run's result as plain, structured-clonable data: what the processes send back to compare. */
export interface RunSummary extends OutputsSummary {
  runId: string;
  stoppedEarly: boolean;
  errors: string[];
  totalRequestCount: number | undefined;
}

/** The summary of a result (usage as plain numbers). */
export function summarize(result: PipelineResult<unknown>): RunSummary {
  return {
    ...summarizeOutputs(result),
    runId: result.runId,
    stoppedEarly: result.stoppedEarly,
    errors: Object.keys(result.errors),
    totalRequestCount: result.usage?.totalRequestCount,
  };
}
