/**
 * The pipeline of the distributed tests: the diamond + chain of
 * ../../support/diamond-chain-pipeline.ts (a, b and e make a paid agent call). Each step
 * appends `<label> <stepId>` to a ledger file before its work, so a test counts executions
 * across worker processes.
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
import { PipelineConfig, type Pipeline, type StepContext } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { sleep } from '../../support/async-helpers';
import { DIAMOND_CHAIN_INPUT, DIAMOND_CHAIN_STEPS, STEP_COSTS_MICROCENTS, diamondChainPipeline } from '../../support/diamond-chain-pipeline';

export const DISTRIBUTED_STEPS = DIAMOND_CHAIN_STEPS;
export const DISTRIBUTED_INPUT = DIAMOND_CHAIN_INPUT;
export { STEP_COSTS_MICROCENTS, summarizeOutputs as summarize } from '../../support/diamond-chain-pipeline';

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
  /** The `ctx.run` a blocked step tries after its block: a model call like a's. */
  const agentA = createMockAgent([(message: string) => ({ output: `a:${message.length}`, costMicrocents: STEP_COSTS_MICROCENTS.a, inputTokens: 10, outputTokens: 2 })]);
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
          await ctx.run(agentA, 'after the block');
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
  return diamondChainPipeline({
    name: 'distributed-test',
    label,
    begin,
    eDependsOn: options.variant === 'rewired' ? 'c' : 'd',
    ...(options.runCostBudget === undefined ? {} : { config: new PipelineConfig({ runCostBudget: options.runCostBudget }) }),
  });
}
