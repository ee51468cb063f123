/**
 * Live progress for a pipeline run, with `renderProgress` from `fastroai/progress`: on a
 * terminal, a bar of finished/total steps with the cost so far and one line per step (state,
 * attempt, time, cost); in CI, a pipe or a file, plain log lines. Ctrl-C restores the cursor
 * and ends the process as usual.
 *
 * Run it: `npx ts-node samples/progress.ts` (or pipe it through `cat` to see the plain lines).
 */
import { Pipeline, PipelineConfig, step, type PipelineResult } from 'fastroai';
import { renderProgress } from 'fastroai/progress';
import { createMockAgent } from 'fastroai/testing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small pipeline with parallel steps, a model call (a scripted mock) and a retry. */
export function buildPipeline() {
  const classifier = createMockAgent<string>([{ output: 'invoice', inputTokens: 420, outputTokens: 3, costMicrocents: 81, delayMs: 250 }]);
  let marketCalls = 0;
  return new Pipeline({
    name: 'document_processor',
    steps: {
      extract: step(async (ctx) => {
        await sleep(150);
        return ctx.getInput<string>('document').split(/\s+/);
      }),
      classify: step(async (ctx) => (await ctx.run(classifier, `Classify: ${ctx.getDependency<string[]>('extract').join(' ')}`)).output),
      fetchMarket: step({ retries: 1, retryDelay: 0.2 }, async () => {
        await sleep(200);
        if (++marketCalls === 1) throw new Error('market feed timed out');
        return { eurUsd: 1.08 };
      }),
      fetchUser: step(async () => {
        await sleep(300);
        return { discount: 0.1 };
      }),
      calculate: step((ctx) => {
        const { eurUsd } = ctx.getDependency<{ eurUsd: number }>('fetchMarket');
        return Math.round(1000 * eurUsd * (1 - ctx.getDependency<{ discount: number }>('fetchUser').discount));
      }),
    },
    dependencies: { classify: ['extract'], fetchMarket: ['classify'], fetchUser: ['classify'], calculate: ['fetchMarket', 'fetchUser'] },
    config: new PipelineConfig({ timeout: 10 }),
  });
}

/** Runs the pipeline under the progress view. @param output where to draw (default stdout) */
export async function main(output: NodeJS.WritableStream = process.stdout): Promise<PipelineResult<unknown>> {
  const result = await renderProgress(buildPipeline().run({ document: 'invoice total 1000 EUR' }), { output });
  output.write(`output: ${String(result.output)} USD\n`);
  return result;
}

if (require.main === module) {
  main().catch(() => {
    // renderProgress has printed the failure.
    process.exitCode = 1;
  });
}
