import { StepConfig } from '../config/step-config';
import type { StepContext } from '../context/step-context';
import { BaseStep } from '../steps/base-step';
import type { RunnableAgent } from './runnable-agent';

/** A step's prompt: fixed text, or built from the step's context (inputs, dependencies' outputs). */
export type AgentPrompt = string | ((ctx: StepContext<any>) => string | Promise<string>);

/**
 * A step that calls one agent through `ctx.run` (so budgets, timeouts, retries, dispatch hooks
 * and usage tracking apply) and returns the response's `output`. Made by `FastroAgent.asStep`.
 */
export class AgentStep<O> extends BaseStep<any, O> {
  constructor(
    readonly agent: RunnableAgent<O>,
    readonly prompt: AgentPrompt,
    config?: StepConfig,
  ) {
    super();
    if (typeof prompt !== 'string' && typeof prompt !== 'function') {
      throw new TypeError(`asStep expects a prompt string or a function of the step context, got ${prompt === null ? 'null' : typeof prompt}`);
    }
    this.config = config ?? new StepConfig();
  }

  async execute(ctx: StepContext<any>): Promise<O> {
    const message = typeof this.prompt === 'string' ? this.prompt : await this.prompt(ctx);
    const response = await ctx.run(this.agent, message);
    return response.output;
  }
}
