import { BaseStep, DEPS, DependsOn, Pipeline, Step, StepContext, TRACER, toMermaidGantt, type RunnableAgent, type Tracer } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { lastValueFrom, tap } from 'rxjs';
import { container, inject } from 'tsyringe';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A service the application owns: registered once in the container, injected into steps. */
class MarketDataClient {
  constructor(private readonly rates: Record<string, number>) {}
  async usdRate(currency: string): Promise<number> {
    await sleep(40); // a slow market-data API
    return this.rates[currency] ?? 1;
  }
}

/** The run's deps: `execute(input, deps)` passes them; steps get them as ctx.deps or @inject(DEPS). */
interface AppDeps {
  customers: Map<string, { name: string; discount: number }>;
}

/** A DI token for the classifier model (offline here: a scripted mock with a price). */
const CLASSIFIER = Symbol('Classifier');

@Step() // id 'extract': the class name without 'Step', first letter lowercased
class ExtractStep extends BaseStep<AppDeps, { words: string[]; amount: number; currency: string }> {
  execute(ctx: StepContext<AppDeps>) {
    const words = ctx.getInput<string>('document').split(/\s+/);
    const amount = Number(words.find((word) => /^\d+$/.test(word)));
    return { words, amount, currency: words[words.indexOf(String(amount)) + 1] ?? 'USD' };
  }
}

@Step({ timeout: 30, retries: 2 })
@DependsOn(ExtractStep)
class ClassifyStep extends BaseStep<AppDeps, string> {
  constructor(@inject(CLASSIFIER) private readonly classifier: RunnableAgent<string>) {
    super();
  }
  async execute(ctx: StepContext<AppDeps>) {
    const { words } = ctx.getDependency(ExtractStep); // typed: no cast
    const response = await ctx.run(this.classifier, `Classify this document: ${words.join(' ')}`);
    return response.output;
  }
}

@Step({ id: 'fetchMarket', timeout: 5, retries: 1 })
@DependsOn(ClassifyStep)
class MarketStep extends BaseStep<AppDeps, { usdRate: number }> {
  constructor(private readonly market: MarketDataClient) {
    super();
  }
  async execute(ctx: StepContext<AppDeps>) {
    return { usdRate: await this.market.usdRate(ctx.getDependency(ExtractStep).currency) };
  }
}

@Step()
@DependsOn('classify') // by id works too
class FetchUserStep extends BaseStep<AppDeps, { name: string; discount: number }> {
  constructor(
    @inject(DEPS) private readonly deps: AppDeps,
    @inject(TRACER) private readonly tracer: Tracer,
  ) {
    super();
  }
  execute(ctx: StepContext<AppDeps>) {
    const customerId = ctx.getInput<string>('customerId');
    return this.tracer.span('crm.lookup', async () => {
      await sleep(15); // a CRM call
      return this.deps.customers.get(customerId) ?? { name: customerId, discount: 0 };
    });
  }
}

@Step()
@DependsOn(MarketStep, FetchUserStep)
class CalculateStep extends BaseStep<AppDeps, { kind: string; customer: string; usd: number }> {
  execute(ctx: StepContext<AppDeps>) {
    const { amount } = ctx.getDependency(ExtractStep);
    const { usdRate } = ctx.getDependency(MarketStep);
    const { name, discount } = ctx.getDependency(FetchUserStep);
    return { kind: ctx.getDependency(ClassifyStep), customer: name, usd: Math.round(amount * usdRate * (1 - discount)) };
  }
}

// The application registers its services once; every run resolves the steps from a child container.
container.registerInstance(MarketDataClient, new MarketDataClient({ EUR: 1.08, GBP: 1.27 }));
container.registerInstance(CLASSIFIER, createMockAgent([{ output: 'invoice', inputTokens: 57, outputTokens: 2, costMicrocents: 10, delayMs: 25 }]));

// No type arguments: AppDeps comes from the steps, the output type from outputStep.
const pipeline = Pipeline.fromSteps({
  name: 'document_processor',
  steps: [ExtractStep, ClassifyStep, MarketStep, FetchUserStep, CalculateStep],
  outputStep: CalculateStep,
});

async function main() {
  console.log(pipeline.levels); // [['extract'], ['classify'], ['fetchMarket', 'fetchUser'], ['calculate']]

  const deps: AppDeps = { customers: new Map([['CUST-1042', { name: 'Acme Robotics', discount: 0.1 }]]) };
  const input = { document: 'invoice total 1000 EUR', customerId: 'CUST-1042' };

  // Progress: run() is a cold RxJS stream of events; subscribing starts the run.
  const last = await lastValueFrom(
    pipeline.run(input, deps).pipe(
      tap((event) => {
        if (event.type === 'level.completed') console.log(`level ${event.level} done: ${event.stepIds.join(', ')}`);
      }),
    ),
  );
  if (last.type !== 'pipeline.completed') throw new Error(`unexpected last event ${last.type}`);
  const result = last.result;
  console.log(result.output); // { kind: 'invoice', customer: 'Acme Robotics', usd: 972 }
  console.log(`cost: ${result.usage?.totalCostMicrocents} microcents`);

  // The run as a Gantt chart: what ran in parallel, and the critical path (crit).
  console.log(toMermaidGantt(result));
}

main();
