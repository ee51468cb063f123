import { tool } from 'ai';
import { z } from 'zod';
import {
  CostCalculator,
  DispatchSkippedError,
  FastroAgent,
  Pipeline,
  PipelineConfig,
  StepConfig,
  StepExecutionError,
  StepTimeoutError,
  step,
} from 'fastroai';
import { useOpenAIServer } from '../support/use-openai-server';

const useServer = useOpenAIServer();

/** A one-step pipeline whose step calls `agent` through ctx.run. */
function singleCall(agent: FastroAgent<any>, config: ConstructorParameters<typeof StepConfig>[0]) {
  return new Pipeline({ name: 'single', steps: { ask: agent.asStep('Question?', config) } });
}

describe('FastroAgent in a pipeline', () => {
  describe('retries: ctx.run owns them', () => {
    it.each([500, 429])('retries: 2 after %i answers means exactly 3 HTTP requests', async (status) => {
      useServer().enqueue({ kind: 'error', status }, { kind: 'error', status }, { kind: 'json', content: 'third time lucky' });
      const result = await singleCall(new FastroAgent(), { retries: 2, retryDelay: 0.01 }).execute({});
      expect(result.output).toBe('third time lucky');
      expect(useServer().requests).toHaveLength(3);
    });

    it('gives up after retries + 1 requests when every answer fails', async () => {
      useServer().fallback = () => ({ kind: 'error', status: 500, message: 'still down' });
      const error = await singleCall(new FastroAgent(), { retries: 2, retryDelay: 0.01 })
        .execute({})
        .catch((caught: unknown) => caught);
      expect(StepExecutionError.isInstance(error)).toBe(true);
      expect((error as StepExecutionError).stepId).toBe('ask');
      expect(useServer().requests).toHaveLength(3);
    });

    it('fires the agent dispatch hooks around every attempt', async () => {
      useServer().enqueue({ kind: 'error', status: 500 }, { kind: 'json', content: 'ok' });
      const calls: string[] = [];
      const agent = new FastroAgent({
        onBeforeDispatch: async () => {
          calls.push('before');
        },
        onAfterDispatch: async (error) => {
          calls.push(error === undefined ? 'after ok' : 'after error');
        },
      });
      await singleCall(agent, { retries: 1, retryDelay: 0.01 }).execute({});
      expect(calls).toEqual(['before', 'after error', 'before', 'after ok']);
    });

    it('sends nothing when onBeforeDispatch skips the call', async () => {
      const agent = new FastroAgent({
        onBeforeDispatch: async () => {
          throw new DispatchSkippedError('circuit open');
        },
      });
      await expect(singleCall(agent, { retries: 3, retryDelay: 0.01 }).execute({})).rejects.toThrow(/circuit open/);
      expect(useServer().requests).toHaveLength(0);
    });
  });

  describe('timeouts', () => {
    it('a step timeout aborts the model call: the server sees the connection close', async () => {
      useServer().enqueue({ kind: 'hang' });
      const error = await singleCall(new FastroAgent(), { timeout: 0.2 })
        .execute({})
        .catch((caught: unknown) => caught);
      expect(StepExecutionError.isInstance(error)).toBe(true);
      expect(StepTimeoutError.isInstance((error as StepExecutionError).originalError)).toBe(true);
      await useServer().requests[0].closed;
      expect(useServer().requests[0].isClosed()).toBe(true);
    });

    it('a timed-out attempt is retried and the retry answers', async () => {
      useServer().enqueue({ kind: 'hang' }, { kind: 'json', content: 'second try' });
      const pipeline = new Pipeline({
        name: 'timeout-retry',
        steps: { ask: step(async (ctx) => (await ctx.run(new FastroAgent(), 'Q', { timeout: 0.2, retries: 1 })).output) },
        config: new PipelineConfig({ retryDelay: 0.01 }),
      });
      const result = await pipeline.execute({});
      expect(result.output).toBe('second try');
      await useServer().requests[0].closed;
      expect(useServer().requests).toHaveLength(2);
    });
  });

  describe('usage and cost', () => {
    it('counts the usage of a failed attempt the provider reported, and its failed request', async () => {
      useServer().enqueue(
        { kind: 'json', toolCalls: [{ id: 'call_1', name: 'lookup', arguments: { q: 'x' } }], usage: { promptTokens: 100, completionTokens: 10 } },
        { kind: 'error', status: 500 },
        { kind: 'json', content: 'answered', usage: { promptTokens: 100, completionTokens: 8 } },
      );
      const lookup = tool({ description: 'look up', inputSchema: z.object({ q: z.string() }), execute: async () => 'found' });
      const agent = new FastroAgent({ tools: { lookup } });
      const result = await singleCall(agent, { retries: 1, retryDelay: 0.01 }).execute({});
      expect(result.output).toBe('answered');
      const usage = result.usage!.steps.ask;
      expect(usage.requestCount).toBe(3);
      expect(usage.inputTokens).toBe(200);
      expect(usage.outputTokens).toBe(18);
      expect(usage.costMicrocents).toBe(100 * 2.5 + 10 * 10 + (100 * 2.5 + 8 * 10));
    });

    it('per-step cost rows add up exactly to the run total', async () => {
      // Token counts chosen so every step's price has a fraction of a microcent to truncate.
      useServer().fallback = (request) => {
        const n = request.body.messages.at(-1).content.length;
        return { kind: 'json', content: `answer ${n}`, usage: { promptTokens: 1_003 + n * 7, completionTokens: 17 + n, cachedTokens: 333 } };
      };
      const calculator = new CostCalculator();
      const agent = new FastroAgent({ model: 'openai:gpt-4o-mini', costCalculator: calculator });
      const pipeline = new Pipeline({
        name: 'costs',
        steps: {
          extract: agent.asStep('Extract the entities.'),
          classify: agent.asStep((ctx) => `Classify ${ctx.getDependency<string>('extract')}.`),
          market: agent.asStep('Fetch the market.'),
          user: agent.asStep('Fetch the user profile, please.'),
          calculate: agent.asStep((ctx) => `Calculate from ${ctx.getDependency('market')} and ${ctx.getDependency('user')}.`),
        },
        dependencies: { classify: ['extract'], market: ['classify'], user: ['classify'], calculate: ['market', 'user'] },
      });
      const result = await pipeline.execute({});
      const rows = Object.values(result.usage!.steps);
      expect(rows).toHaveLength(5);
      for (const row of rows) {
        expect(Number.isInteger(row.costMicrocents)).toBe(true);
        expect(row.costMicrocents).toBe(
          calculator.calculateCost('gpt-4o-mini', row.inputTokens, row.outputTokens, { cacheReadTokens: row.cacheReadTokens }),
        );
        expect(row.costMicrocents).toBeGreaterThan(0);
      }
      expect(rows.reduce((sum, row) => sum + row.costMicrocents, 0)).toBe(result.usage!.totalCostMicrocents);
      expect(result.usage!.totalRequestCount).toBe(5);
      expect(result.usage!.totalInputTokens).toBe(rows.reduce((sum, row) => sum + row.inputTokens, 0));
    });

    it('refuses the next call once a step spent its budget', async () => {
      useServer().fallback = () => ({ kind: 'json', content: 'ok', usage: { promptTokens: 1_000, completionTokens: 0 } });
      const agent = new FastroAgent();
      const pipeline = new Pipeline({
        name: 'budget',
        steps: {
          loop: step({ costBudget: 2_000 }, async (ctx) => {
            for (let i = 0; i < 5; i++) await ctx.run(agent, `call ${i}`);
          }),
        },
      });
      await expect(pipeline.execute({})).rejects.toThrow(/budget/i);
      // Each call costs 2,500 microcents: the first crosses the 2,000 budget, the second is refused.
      expect(useServer().requests).toHaveLength(1);
    });

    it('asStep builds its prompt from the step context', async () => {
      const agent = new FastroAgent();
      const pipeline = new Pipeline({
        name: 'prompted',
        steps: { summarize: agent.asStep((ctx) => `Summarize: ${ctx.getInput<string>('document')}`) },
      });
      await pipeline.execute({ document: 'A long text.' });
      expect(useServer().requests[0].body.messages.at(-1)).toEqual({ role: 'user', content: 'Summarize: A long text.' });
    });
  });
});
