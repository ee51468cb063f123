/**
 * The pipeline of the process tests (a caller killed and resumed, queue workers): a diamond
 * (a → b, c → d) and a chain (d → e → f). a, b and e make a paid agent call (`createMockAgent`,
 * distinct magnitudes, so a double count shows in the total); outputs carry a Date, a Map, a
 * Set and a BigInt, so a dependent in another process sees the codec's round trip. Each test
 * family adds its own ledger and faults through `begin`.
 */
import { Pipeline, type PipelineConfig, type PipelineResult, step, type StepContext } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';

/** Step ids in declaration order. */
export const DIAMOND_CHAIN_STEPS = ['a', 'b', 'c', 'd', 'e', 'f'] as const;

/** What each paid step's agent call costs. */
export const STEP_COSTS_MICROCENTS: Record<string, number> = { a: 1_000, b: 20_000, e: 300_000 };

/** The run's input (the same in every process). */
export const DIAMOND_CHAIN_INPUT = { topic: 'lisbon', at: 1_700_000_000_000 };

/** Options of {@link diamondChainPipeline}. */
export interface DiamondChainOptions {
  name: string;
  /** Who executes: d's stand-in output names it. */
  label: string;
  /**
   * Runs first in every step (a ledger line, a fault, a delay). It resolving false makes d
   * return a stand-in (`late-<label>`) instead of its work; the other steps go on.
   */
  begin: (ctx: StepContext) => Promise<boolean>;
  /** e's dependency: 'c' re-wires the graph (another fingerprint). @default 'd' */
  eDependsOn?: 'c' | 'd';
  config?: PipelineConfig;
}

/** The diamond + chain pipeline. */
export function diamondChainPipeline(options: DiamondChainOptions): Pipeline {
  const { label, begin } = options;
  const agentOf = (id: string) =>
    createMockAgent([(message: string) => ({ output: `${id}:${message.length}`, costMicrocents: STEP_COSTS_MICROCENTS[id], inputTokens: 10, outputTokens: 2 })]);
  const agents = { a: agentOf('a'), b: agentOf('b'), e: agentOf('e') };
  return new Pipeline({
    name: options.name,
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
    dependencies: { b: ['a'], c: ['a'], d: ['b', 'c'], e: [options.eDependsOn ?? 'd'], f: ['e'] },
    ...(options.config === undefined ? {} : { config: options.config }),
  });
}

/** What two runs of the pipeline must agree on, as plain data: outputs and what each step cost. */
export interface OutputsSummary {
  output: unknown;
  stepOutputs: Record<string, unknown>;
  totalCostMicrocents: number | undefined;
  stepCostsMicrocents: Record<string, number>;
}

/** The outputs and costs of a result (usage as plain numbers). */
export function summarizeOutputs(result: PipelineResult<unknown>): OutputsSummary {
  const stepCostsMicrocents: Record<string, number> = {};
  for (const [id, usage] of Object.entries(result.usage?.steps ?? {})) stepCostsMicrocents[id] = usage.costMicrocents;
  return { output: result.output, stepOutputs: result.stepOutputs, totalCostMicrocents: result.usage?.totalCostMicrocents, stepCostsMicrocents };
}
