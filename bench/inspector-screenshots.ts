/**
 * Makes the README's screenshots of the run inspector: docs/inspector-runs.png (the runs list)
 * and docs/inspector-run.png (one run: DAG, Gantt chart, usage and cost, outputs), from real
 * runs recorded in a MemoryRunStore and Debian's Chromium.
 *
 * Run: node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/inspector-screenshots.ts
 */
import { join } from 'node:path';
import { ConversationState, ConversationStatus, MemoryRunStore, Pipeline, step } from 'fastroai';
import { serveInspector } from 'fastroai/inspector';
import { createMockAgent } from 'fastroai/testing';
import { launchChromium } from '../tests/inspector/support/launch-chromium';

const DOCS = join(__dirname, '..', 'docs');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The document processor of the README, with model calls that cost something and steps that take a while. */
function documentProcessor(store: MemoryRunStore, failPricing = false): Pipeline {
  const classifier = createMockAgent<string>([{ output: 'invoice', inputTokens: 1_240, outputTokens: 12, costMicrocents: 3_220, model: 'gpt-4o-mini', delayMs: 140 }]);
  const summarizer = createMockAgent<string>([{ output: 'Invoice 2026-114 from ACME, due Dec 15.', inputTokens: 2_310, outputTokens: 64, costMicrocents: 9_415, model: 'gpt-4o', delayMs: 220 }]);
  return new Pipeline({
    name: 'document_processor',
    store,
    steps: {
      extract: step(async () => {
        await sleep(60);
        return { pages: 3, text: 'INVOICE 2026-114 … total due 1,240.00 EUR', received: new Date(Date.UTC(2026, 10, 27, 9, 12)) };
      }),
      classify: step(async (ctx) => (await ctx.run(classifier, 'Classify this document')).output),
      fetchMarket: step(async () => {
        await sleep(180);
        return { eurUsd: 1.0843, source: 'ecb' };
      }),
      fetchUser: step(async () => {
        await sleep(90);
        return { customer: 'ACME GmbH', tier: 'gold', tags: new Set(['eu', 'net-30']) };
      }),
      summarize: step(async (ctx) => (await ctx.run(summarizer, 'Summarize')).output),
      pricing: step(async (ctx) => {
        await sleep(70);
        if (failPricing) throw new Error('pricing service answered 503');
        return { totalUsd: Math.round(1240 * ctx.getDependency<{ eurUsd: number }>('fetchMarket').eurUsd * 100) / 100 };
      }),
      report: step(async () => {
        await sleep(40);
        return { status: 'ready', channels: ['email', 'erp'] };
      }),
    },
    dependencies: {
      classify: ['extract'],
      fetchMarket: ['classify'],
      fetchUser: ['classify'],
      summarize: ['extract'],
      pricing: ['fetchMarket', 'fetchUser'],
      report: ['pricing', 'summarize'],
    },
  });
}

function booking(store: MemoryRunStore): Pipeline {
  return new Pipeline({
    name: 'trip_booking',
    store,
    steps: {
      parse: step(() => ({ destination: 'Lisbon' })),
      askDates: step(() => new ConversationState({ status: ConversationStatus.INCOMPLETE, data: { missing: ['dates'] }, context: { question: 'Which dates?' } })),
      book: step(() => 'booked'),
    },
    dependencies: { askDates: ['parse'], book: ['askDates'] },
  });
}

async function main(): Promise<void> {
  const store = new MemoryRunStore();
  const pipeline = documentProcessor(store);
  for (let run = 1; run <= 3; run++) await pipeline.execute({ document: `invoice-${run}.pdf` }, undefined, { runId: `doc-2026-11-27-00${run}` });
  // A failed run: its pricing service is down (execute rejects; the record stays, resumable).
  await documentProcessor(store, true).execute({ document: 'invoice-4.pdf' }, undefined, { runId: 'doc-2026-11-27-004' }).catch(() => undefined);
  await booking(store).execute({ message: 'A trip to Lisbon' }, undefined, { runId: 'trip-7f3a' });
  await pipeline.execute({ document: 'invoice-5.pdf' }, undefined, { runId: 'doc-2026-11-27-005' });
  const inspector = await serveInspector({ store, port: 0, pipelines: [pipeline, booking(store)] });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 520 }, deviceScaleFactor: 1 });
    await page.goto(inspector.url);
    await page.screenshot({ path: join(DOCS, 'inspector-runs.png'), fullPage: true });
    await page.setViewportSize({ width: 1100, height: 1500 });
    await page.goto(`${inspector.url}runs/doc-2026-11-27-005`);
    await page.click('details#step-0 > summary');
    await page.screenshot({ path: join(DOCS, 'inspector-run.png'), fullPage: false });
    console.log(`wrote ${join(DOCS, 'inspector-runs.png')} and ${join(DOCS, 'inspector-run.png')}`);
  } finally {
    await browser.close();
    await inspector.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
