/**
 * The pipelines of the "Distributed runs" rows, built the same way by the caller and by the
 * worker processes (bench/fastroai-step-worker.ts), so their fingerprints agree:
 * - `bench-chain-<n>`: a chain of n no-op steps, each returning its index;
 * - `bench-fanout-<n>`: n independent no-op steps, each returning its index;
 * - `bench-held`: one step that reports its start (`{"event":"started","jobId"}` on stdout, the
 *   protocol of bench/worker-processes.ts) and holds for `holdMs`, for the recovery row.
 */
import { Pipeline, step, type StepContext } from 'fastroai';
import { buildEngineOptions } from './engine-adapter';
import { chainDag } from './random-dag';

const noOp = (index: number) => index;

export function chainPipelineName(steps: number): string {
  return `bench-chain-${steps}`;
}

export function fanOutPipelineName(steps: number): string {
  return `bench-fanout-${steps}`;
}

export const HELD_PIPELINE_NAME = 'bench-held';

/** The held step's id. */
export const HELD_STEP_ID = 'held';

/** A chain of `steps` no-op steps. */
export function chainPipeline(steps: number): Pipeline {
  return new Pipeline({ ...buildEngineOptions(chainDag(steps), noOp), name: chainPipelineName(steps) });
}

/** `steps` independent no-op steps. */
export function fanOutPipeline(steps: number): Pipeline {
  const independent = Array.from({ length: steps }, () => [] as number[]);
  return new Pipeline({ ...buildEngineOptions(independent, noOp), name: fanOutPipelineName(steps) });
}

/** The input of the held pipeline: the step's job id (it has no other way to know it) and how long it holds. */
export interface HeldInput {
  jobId: string;
  holdMs: number;
}

/** One step that prints its start and holds for `holdMs`, honouring its signal. */
export function heldPipeline(): Pipeline {
  return new Pipeline({
    name: HELD_PIPELINE_NAME,
    steps: {
      [HELD_STEP_ID]: step(async (ctx: StepContext) => {
        process.stdout.write(`${JSON.stringify({ event: 'started', jobId: ctx.getInput<string>('jobId'), pid: process.pid })}\n`);
        await new Promise((resolve) => setTimeout(resolve, ctx.getInput<number>('holdMs')));
        return 'held';
      }),
    },
  });
}
