import { filter, lastValueFrom, tap } from 'rxjs';
import { z } from 'zod';
import { CostCalculator, FastroAgent, Pipeline, PipelineConfig, StepConfig, step, type PipelineCompletedEvent } from 'fastroai';
import { createOfflineDemoModel } from 'fastroai/testing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Each step reads the run's input and its dependencies' outputs from ctx.
const extract = step((ctx) => ctx.getInput<string>('document').split(/\s+/));

// An agent step: a real model when OPENAI_API_KEY is set, else the offline demo model (no network).
const classifier = new FastroAgent({
  model: process.env.OPENAI_API_KEY ? 'openai:gpt-4o-mini' : createOfflineDemoModel(),
  outputType: z.object({ documentType: z.enum(['invoice', 'receipt', 'contract', 'other']) }),
  // Prices come from genai-prices; the demo model has none, so price it like gpt-4o-mini.
  costCalculator: new CostCalculator({ pricingOverrides: { 'fastroai-offline-demo': { inputPerMtok: 0.15, outputPerMtok: 0.6 } } }),
});
const classify = classifier.asStep((ctx) => `Classify this document: ${ctx.getDependency<string[]>('extract').join(' ')}`);
const fetchMarket = step({ timeout: 5, retries: 2 }, async () => {
  await sleep(30); // a slow API call
  return { eurUsd: 1.08 };
});
const fetchUser = step(async (ctx) => {
  await sleep(10);
  return { id: ctx.getInput<string>('userId'), discount: 0.1 };
});
const calculate = step((ctx) => {
  const amount = Number(ctx.getDependency<string[]>('extract').find((word) => /^\d+$/.test(word)));
  const { eurUsd } = ctx.getDependency<{ eurUsd: number }>('fetchMarket');
  const { discount } = ctx.getDependency<{ discount: number }>('fetchUser');
  const { documentType } = ctx.getDependency<{ documentType: string }>('classify');
  return { kind: documentType, usd: Math.round(amount * eurUsd * (1 - discount)) };
});

const pipeline = new Pipeline({
  name: 'document_processor',
  steps: { extract, classify, fetchMarket, fetchUser, calculate },
  dependencies: {
    classify: ['extract'],
    fetchMarket: ['classify'],
    fetchUser: ['classify'],
    calculate: ['fetchMarket', 'fetchUser'],
  },
  config: new PipelineConfig({ timeout: 30, maxConcurrency: 4 }),
  stepConfigs: { fetchUser: new StepConfig({ retries: 1 }) },
});

async function main() {
  console.log(pipeline.levels); // [['extract'], ['classify'], ['fetchMarket', 'fetchUser'], ['calculate']]

  // One run: progress as an RxJS stream (subscribing starts the run), whose last event,
  // pipeline.completed, carries the result. (`pipeline.execute(input)` gives just the result;
  // `renderProgress(pipeline.run(input))` from 'fastroai/progress' draws the run live.)
  const { result } = await lastValueFrom(
    pipeline.run({ document: 'invoice total 1000 EUR', userId: 'u-42' }).pipe(
      tap((event) => {
        if (event.type === 'step.completed') console.log(`${event.stepId} done in ${event.durationMs.toFixed(1)} ms`);
      }),
      filter((event): event is PipelineCompletedEvent => event.type === 'pipeline.completed'),
    ),
  );
  console.log(result.output); // { kind: 'invoice', usd: 972 }
  console.log(`${result.usage?.totalInputTokens} input tokens, ${result.usage?.totalCostMicrocents} microcents`);
}

main();
