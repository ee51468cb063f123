/**
 * A child process of tests/tracing/rejecting-observers.test.ts: runs a pipeline with each kind
 * of `async` observer whose promise rejects (an `onEvent` handler, a SimpleTracer logger, a
 * tracer's `logMetric` after a FastroAgent call), then reports the outputs and lingers a
 * moment, so that an unhandled rejection would end this process with code 1 before it exits 0.
 */
import type { LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';
import { FastroAgent, Pipeline, SimpleTracer, step, type Tracer, type TracerLogger } from 'fastroai';

const rejects = (what: string) => async () => {
  throw new Error(`${what} rejected`);
};

const model = new MockLanguageModelV3({
  modelId: 'gpt-4o',
  doGenerate: async (): Promise<LanguageModelV3GenerateResult> => ({
    content: [{ type: 'text', text: 'hi' }],
    finishReason: { unified: 'stop', raw: 'stop' },
    usage: { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: undefined }, outputTokens: { total: 5, text: 5, reasoning: undefined } },
    warnings: [],
  }),
});

async function main(): Promise<void> {
  const plain = new Pipeline({ name: 'plain', steps: { a: step(() => 'a') } });
  const onEvent = await plain.execute({}, undefined, { onEvent: rejects('onEvent') });
  const logger = { debug: rejects('logger.debug'), info: rejects('logger.info'), error: rejects('logger.error') } as TracerLogger;
  const logged = await plain.execute({}, undefined, new SimpleTracer(logger));
  const tracer: Tracer = { span: (_name, fn) => fn('trace-1'), logMetric: rejects('logMetric'), logError: () => undefined };
  const agent = new FastroAgent({ model });
  const metric = await new Pipeline({ name: 'agent', steps: { ask: agent.asStep('Question?') } }).execute({}, undefined, tracer);
  process.send!({ type: 'done', outputs: [onEvent.output, logged.output, metric.output] });
  await new Promise((resolve) => setTimeout(resolve, 200));
  process.exit(0);
}

void main();
