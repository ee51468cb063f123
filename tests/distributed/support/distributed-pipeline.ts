/**
 * The pipeline of the distributed tests: a diamond (a → b, c → d) and a chain (d → e → f); a,
 * b and e make a paid agent call. Each step appends `<label> <stepId>` to a ledger file before
 * its work, so a test counts executions across worker processes.
 *
 * Faults, by step id, each on the step's FIRST execution only (the ledger has no earlier line
 * for it), so the job's second execution, on another worker, goes through:
 * - `hangFirst`: hangs (until the worker is killed);
 * - `blockFirst`: blocks the event loop for `blockMs`, then tries a `ctx.run` call and writes
 *   `<label> <stepId>:ctx.run-refused:<error name>` when it is refused; the second execution
 *   waits `lateMs` first, so the blocked worker would record first if nothing refused it;
 * - `slow`: waits that many ms (every execution), honouring the step's signal (an abort
 *   writes `<label> <stepId>:aborted`).
 * `variant: 'rewired'` makes e depend on c instead of d (another fingerprint).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { Pipeline, PipelineConfig, step, type PipelineResult, type StepContext } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { sleep } from '../../support/async-helpers';

export const DISTRIBUTED_STEPS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;

/** What each paid step's agent call costs. */
export const STEP_COSTS_MICROCENTS: Record<string, number> = { a: 1_000, b: 20_000, e: 300_000 };

export const DISTRIBUTED_INPUT = { topic: 'lisbon', at: 1_700_000_000_000 };

export interface DistributedPipelineOptions {
  ledger: string;
  label: string;
  hangFirst?: string;
  blockFirst?: string;
  blockMs?: number;
  lateMs?: number;
  slow?: Record<string, number>;
  variant?: 'rewired';
  /** The pipeline's runCostBudget (microcents). */
  runCostBudget?: number;
}

/** How many ledger lines name `stepId` as an execution (refusal lines excluded). */
export function executionsOf(ledger: string, stepId: string): number {
  if (!existsSync(ledger)) return 0;
  return readFileSync(ledger, 'utf8').split('\n').filter((line) => line.split(' ')[1] === stepId).length;
}

export function distributedPipeline(options: DistributedPipelineOptions): Pipeline {
  const { ledger, label } = options;
  const agentOf = (id: string) =>
    createMockAgent([(message: string) => ({ output: `${id}:${message.length}`, costMicrocents: STEP_COSTS_MICROCENTS[id], inputTokens: 10, outputTokens: 2 })]);
  const agents = { a: agentOf('a'), b: agentOf('b'), e: agentOf('e') };
  /** The ledger line, then this step's fault or delay; false when the step should return at once (a refused late run). */
  const begin = async (ctx: StepContext): Promise<boolean> => {
    const first = executionsOf(ledger, ctx.stepId) === 0;
    appendFileSync(ledger, `${label} ${ctx.stepId}\n`);
    if (first && ctx.stepId === options.hangFirst) await sleep(600_000, ctx.signal);
    if (ctx.stepId === options.blockFirst) {
      if (first) {
        const until = Date.now() + (options.blockMs ?? 3_000);
        while (Date.now() < until) {
          // a synchronous stretch: no lock renewal, no timers
        }
        try {
          await ctx.run(agents.a, 'after the block');
        } catch (error) {
          appendFileSync(ledger, `${label} ${ctx.stepId}:ctx.run-refused:${(error as Error).name}\n`);
        }
        return false;
      }
      await sleep(options.lateMs ?? 1_500, ctx.signal);
    }
    const slowMs = options.slow?.[ctx.stepId];
    if (slowMs !== undefined) {
      try {
        await sleep(slowMs, ctx.signal);
      } catch (aborted) {
        appendFileSync(ledger, `${label} ${ctx.stepId}:aborted\n`);
        throw aborted;
      }
    }
    return true;
  };
  return new Pipeline({
    name: 'distributed-test',
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
        if (!(await begin(ctx))) return { joined: `late-${label}`, big: 0n };
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
    dependencies: { b: ['a'], c: ['a'], d: ['b', 'c'], e: [options.variant === 'rewired' ? 'c' : 'd'], f: ['e'] },
    ...(options.runCostBudget === undefined ? {} : { config: new PipelineConfig({ runCostBudget: options.runCostBudget }) }),
  });
}

/** A result as plain data, to compare runs. */
export function summarize(result: PipelineResult<unknown>) {
  const stepCostsMicrocents: Record<string, number> = {};
  for (const [id, usage] of Object.entries(result.usage?.steps ?? {})) stepCostsMicrocents[id] = usage.costMicrocents;
  return {
    output: result.output,
    stepOutputs: result.stepOutputs,
    totalCostMicrocents: result.usage?.totalCostMicrocents,
    stepCostsMicrocents,
  };
}
