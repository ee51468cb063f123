/**
 * The pipeline of the process tests (tests/durable/caller-crash.test.ts): a diamond (a → b, c
 * → d) and a chain (d → e → f). a, b and e make a paid agent call (`createMockAgent`); outputs
 * carry a Date, a Map, a Set and a BigInt, so a resumed dependent sees the codec's round trip.
 *
 * Each step appends `<label> <stepId>` to a ledger file outside the store BEFORE its work, so
 * the test counts executions across processes. The step named `block` then hangs (the process
 * is killed while it is in flight); the step named `hold` waits for `release` (a resume that
 * keeps its lease until the test lets it finish, for the concurrent resume test).
 */
import { appendFileSync } from 'node:fs';
import { Pipeline, step, type PipelineResult, type StepContext } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { sleep } from '../../support/async-helpers';

/** Step ids in declaration order. */
export const CRASH_PIPELINE_STEPS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;

/** What each paid step's agent call costs (distinct magnitudes: a double count shows in the total). */
export const STEP_COSTS_MICROCENTS: Record<string, number> = { a: 1_000, b: 20_000, e: 300_000 };

/** The run's input (the same in every process). */
export const CRASH_PIPELINE_INPUT = { topic: 'lisbon', at: 1_700_000_000_000 };

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
  const agentOf = (id: string) =>
    createMockAgent([(message: string) => ({ output: `${id}:${message.length}`, costMicrocents: STEP_COSTS_MICROCENTS[id], inputTokens: 10, outputTokens: 2 })]);
  const agents = { a: agentOf('a'), b: agentOf('b'), e: agentOf('e') };
  /** The ledger line, then the hang (the in-flight step of a crash) or the hold. */
  const begin = async (ctx: StepContext): Promise<void> => {
    appendFileSync(ledger, `${label} ${ctx.stepId}\n`);
    if (ctx.stepId === block) await sleep(600_000, ctx.signal);
    if (ctx.stepId === hold) await release;
  };
  return new Pipeline({
    name: 'crash-resume',
    steps: {
      a: step(async (ctx: StepContext) => {
        await begin(ctx);
        const answer = await ctx.run(agents.a, `about ${ctx.getInput<string>('topic')}`);
        return { topic: ctx.getInput<string>('topic'), at: new Date(ctx.getInput<number>('at')), via: answer.output };
      }),
      b: step(async (ctx: StepContext) => {
        await begin(ctx);
        const a = ctx.getDependency<{ topic: string; via: string }>('a');
        const answer = await ctx.run(agents.b, `summarise ${a.topic} (${a.via})`);
        return new Map([['summary', `${a.topic}/${answer.output}`]]);
      }),
      c: step(async (ctx: StepContext) => {
        await begin(ctx);
        const a = ctx.getDependency<{ topic: string; at: Date }>('a');
        return new Set([a.topic.length, a.at.getUTCFullYear()]);
      }),
      d: step(async (ctx: StepContext) => {
        await begin(ctx);
        const b = ctx.getDependency<Map<string, string>>('b');
        const c = ctx.getDependency<Set<number>>('c');
        return { joined: `${b.get('summary')}|${[...c].join(',')}`, big: BigInt([...c].reduce((sum, n) => sum + n, 0)) * 10n ** 20n };
      }),
      e: step(async (ctx: StepContext) => {
        await begin(ctx);
        const d = ctx.getDependency<{ joined: string; big: bigint }>('d');
        const answer = await ctx.run(agents.e, `write up ${d.joined} ${d.big}`);
        return `${d.joined}!${answer.output}`;
      }),
      f: step(async (ctx: StepContext) => {
        await begin(ctx);
        const e = ctx.getDependency<string>('e');
        return { final: e, length: e.length, at: ctx.getDependency<{ at: Date }>('a').at };
      }),
    },
    dependencies: { b: ['a'], c: ['a'], d: ['b', 'c'], e: ['d'], f: ['e'] },
  });
}

/** A run's result as plain, structured-clonable data: what the processes send back to compare. */
export interface RunSummary {
  runId: string;
  output: unknown;
  stepOutputs: Record<string, unknown>;
  stoppedEarly: boolean;
  errors: string[];
  totalCostMicrocents: number | undefined;
  totalRequestCount: number | undefined;
  stepCostsMicrocents: Record<string, number>;
}

/** The summary of a result (usage as plain numbers). */
export function summarize(result: PipelineResult<unknown>): RunSummary {
  const stepCostsMicrocents: Record<string, number> = {};
  for (const [id, usage] of Object.entries(result.usage?.steps ?? {})) stepCostsMicrocents[id] = usage.costMicrocents;
  return {
    runId: result.runId,
    output: result.output,
    stepOutputs: result.stepOutputs,
    stoppedEarly: result.stoppedEarly,
    errors: Object.keys(result.errors),
    totalCostMicrocents: result.usage?.totalCostMicrocents,
    totalRequestCount: result.usage?.totalRequestCount,
    stepCostsMicrocents,
  };
}
