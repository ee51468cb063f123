/**
 * `npm run demo`: a document-processing pipeline of AI agents.
 *
 *   extract → classify → fetch_market ∥ fetch_user → calculate
 *
 * Each step is a FastroAgent with a typed (zod) output; fetch_market and fetch_user call tools.
 * Progress is drawn live by `renderProgress` (plain lines when stdout is not a terminal), then a
 * table of tokens, cost and time per step, in 80 columns; a Mermaid Gantt chart of the run is
 * written to demo-output/. The run is recorded in the embedded SQLite run store
 * `.fastroai/runs.db` (DEMO_RUNS_DB names another file), and the demo ends by printing the
 * command that shows it in the run inspector: `npx fastroai inspect`. A failed run ends with a short report (the step, the error, the
 * cost so far) and exit status 1. `DEMO_FAIL_STEP=fetch_market npm run demo` shows one: that
 * step's model requests fail as an unavailable provider's would (HTTP 503).
 *
 * Without OPENAI_API_KEY it runs offline on fastroai's demo model (deterministic answers,
 * priced as if it were gpt-4o-mini). With OPENAI_API_KEY it calls the real model:
 * OPENAI_MODEL (default gpt-4o-mini), at OPENAI_BASE_URL if set (any OpenAI-compatible server:
 * vLLM, Ollama, LM Studio, …). A document file may be given: `npm run demo -- invoice.txt`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { APICallError } from 'ai';
import { tap } from 'rxjs';
import { z } from 'zod';
import { CostCalculator, FastroAgent, Pipeline, PipelineConfig, StepExecutionError, toMermaidGantt, type PipelineResult } from 'fastroai';
import { renderProgress } from 'fastroai/progress';
import { SqliteRunStore } from 'fastroai/sqlite';
import { createOfflineDemoModel, OFFLINE_DEMO_MODEL_ID } from 'fastroai/testing';

const SAMPLE_DOCUMENT = `INVOICE #INV-2024-0042
From: Northwind Components GmbH
Bill to: Acme Robotics Ltd (customer ID: CUST-1042)
Date: 2024-11-05   Due: 2024-12-05   Currency: EUR

3 x Servo motor SM-200 @ 149.00
10 x Sensor board SB-7 @ 42.50
1 x Calibration service @ 380.00

Notes: urgent, the production line is waiting on these parts.`;

/* The typed outputs of the steps. */
const ExtractedDocument = z.object({
  documentNumber: z.string(),
  vendor: z.string(),
  customer: z.string(),
  customerId: z.string(),
  currency: z.string().describe('ISO 4217 code'),
  dueDate: z.string(),
  lineItems: z.array(z.object({ description: z.string(), quantity: z.number(), unitPrice: z.number() })),
});
const Classification = z.object({
  documentType: z.enum(['invoice', 'purchase_order', 'receipt', 'contract', 'other']),
  priority: z.enum(['low', 'normal', 'high']),
  reason: z.string(),
});
const MarketData = z.object({ currency: z.string(), usdRate: z.number(), source: z.string() });
const CustomerProfile = z.object({
  customerId: z.string(),
  name: z.string(),
  tier: z.enum(['standard', 'silver', 'gold']),
  discountPercent: z.number(),
  paymentTermsDays: z.number(),
});
const AmountDue = z.object({
  currency: z.string(),
  subtotal: z.number(),
  discount: z.number(),
  total: z.number(),
  totalUsd: z.number(),
  summary: z.string(),
});

/* What the tools look up: a market-data feed and a CRM, in memory for the demo. */
const EXCHANGE_RATES: Record<string, number> = { EUR: 1.08, GBP: 1.27, CHF: 1.13, USD: 1 };
const CUSTOMERS: Record<string, z.infer<typeof CustomerProfile>> = {
  'CUST-1042': { customerId: 'CUST-1042', name: 'Acme Robotics Ltd', tier: 'gold', discountPercent: 12, paymentTermsDays: 30 },
};

const getExchangeRate = {
  description: 'The current exchange rate from a currency to USD.',
  inputSchema: z.object({ currency: z.string().describe('ISO 4217 code, e.g. EUR') }),
  execute: async ({ currency }: { currency: string }) => {
    const code = currency.toUpperCase();
    return { currency: code, usdRate: EXCHANGE_RATES[code] ?? 1, source: 'demo market feed, 2024-11-05 close' };
  },
};
const getCustomer = {
  description: 'The CRM record of a customer: name, tier, discount and payment terms.',
  inputSchema: z.object({ customerId: z.string() }),
  execute: async ({ customerId }: { customerId: string }) => CUSTOMERS[customerId] ?? { error: `no customer ${customerId}` },
};

/** The demo's output fits a classic terminal: no line is wider than this. */
const COLUMNS = 80;

/** Where the demo's answers come from, and how they are priced. */
interface ModelChoice {
  model: string | LanguageModelV3;
  costCalculator: CostCalculator;
  /** Paragraphs, wrapped to the terminal when printed. */
  description: string[];
}

function chooseModel(env: NodeJS.ProcessEnv): ModelChoice {
  const costCalculator = new CostCalculator();
  if (env.OPENAI_API_KEY) {
    const name = env.OPENAI_MODEL || 'gpt-4o-mini';
    return {
      model: `openai:${name}`,
      costCalculator,
      description: [
        `Model: openai:${name} at ${env.OPENAI_BASE_URL || 'https://api.openai.com/v1'} (OPENAI_API_KEY is set). ` +
          'Costs from the genai-prices data; a model it does not know costs 0 (with a warning).',
      ],
    };
  }
  // gpt-4o-mini's list price, per million tokens: $0.15 input, $0.075 cached input, $0.60 output.
  costCalculator.addPricingOverride(OFFLINE_DEMO_MODEL_ID, 0.15, 0.6, { cacheReadPerMtok: 0.075 });
  return {
    model: createOfflineDemoModel(),
    costCalculator,
    description: [
      `Model: the OFFLINE DEMO MODEL '${OFFLINE_DEMO_MODEL_ID}' (OPENAI_API_KEY is not set): ` +
        'deterministic answers computed from the prompt, no network. Costs are priced AS IF IT WERE gpt-4o-mini ' +
        '($0.15 / $0.60 per million input / output tokens), through a CostCalculator pricing override.',
      'Set OPENAI_API_KEY (and optionally OPENAI_BASE_URL, OPENAI_MODEL) to use a real model.',
    ],
  };
}

/** The ids of the demo's steps, in declaration order. */
export const DEMO_STEPS = ['extract', 'classify', 'fetch_market', 'fetch_user', 'calculate'] as const;

/**
 * A model whose every request fails as an unavailable provider's does (HTTP 503, retryable):
 * what `DEMO_FAIL_STEP` gives the step it names.
 */
function unavailableModel(): LanguageModelV3 {
  const fail = async (): Promise<never> => {
    throw new APICallError({
      message: 'Service Unavailable (simulated by DEMO_FAIL_STEP)',
      url: 'https://demo.invalid/v1/chat/completions',
      requestBodyValues: {},
      statusCode: 503,
    });
  };
  return { specificationVersion: 'v3', provider: 'demo.unavailable', modelId: 'unavailable', supportedUrls: {}, doGenerate: fail, doStream: fail };
}

/**
 * The pipeline: five agent steps; the two fetches run in parallel.
 *
 * @param failStep a step whose model requests fail (HTTP 503), to show how a failed run ends
 */
export function buildDocumentPipeline(choice: Pick<ModelChoice, 'model' | 'costCalculator'>, failStep?: string) {
  if (failStep !== undefined && !(DEMO_STEPS as readonly string[]).includes(failStep)) {
    throw new Error(`DEMO_FAIL_STEP must name a step of the demo (${DEMO_STEPS.join(', ')}), got '${failStep}'`);
  }
  const common = (stepId: string) => ({
    model: stepId === failStep ? unavailableModel() : choice.model,
    costCalculator: choice.costCalculator,
    temperature: 0,
  });
  const extractor = new FastroAgent({
    ...common('extract'),
    systemPrompt: 'You extract structured data from business documents. Copy names, numbers and dates exactly as written.',
    outputType: ExtractedDocument,
  });
  const classifier = new FastroAgent({
    ...common('classify'),
    systemPrompt: 'You triage incoming business documents for an accounts-payable team.',
    outputType: Classification,
  });
  const marketAnalyst = new FastroAgent({
    ...common('fetch_market'),
    systemPrompt: 'You report market data. Always use the tools; never guess a rate.',
    tools: { getExchangeRate },
    outputType: MarketData,
  });
  const accountManager = new FastroAgent({
    ...common('fetch_user'),
    systemPrompt: 'You look up customer accounts in the CRM. Always use the tools; report the record as found.',
    tools: { getCustomer },
    outputType: CustomerProfile,
  });
  const accountant = new FastroAgent({
    ...common('calculate'),
    systemPrompt: 'You are a careful accountant. Compute exactly, round money to cents.',
    outputType: AmountDue,
  });
  type Extracted = z.infer<typeof ExtractedDocument>;
  return new Pipeline({
    name: 'document_processor',
    steps: {
      extract: extractor.asStep((ctx) => `Extract the fields and line items of this document.\n\n${ctx.getInput<string>('document')}`),
      classify: classifier.asStep(
        (ctx) =>
          `Classify this document: its type and how urgently it must be handled.\n\n${ctx.getInput<string>('document')}\n\n` +
          `Fields read from it: ${JSON.stringify(ctx.getDependency<Extracted>('extract'))}`,
      ),
      fetch_market: marketAnalyst.asStep((ctx) => {
        const { currency } = ctx.getDependency<Extracted>('extract');
        return `Fetch the market exchange rate to USD with the getExchangeRate tool and report it.\nCurrency: ${currency}`;
      }),
      fetch_user: accountManager.asStep((ctx) => {
        const { customerId } = ctx.getDependency<Extracted>('extract');
        return `Look up the customer with the getCustomer tool and report the record.\nCustomer ID: ${customerId}`;
      }),
      calculate: accountant.asStep((ctx) => {
        const { lineItems, currency } = ctx.getDependency<Extracted>('extract');
        const { usdRate } = ctx.getDependency<z.infer<typeof MarketData>>('fetch_market');
        const { discountPercent } = ctx.getDependency<z.infer<typeof CustomerProfile>>('fetch_user');
        return (
          'Calculate the amount due: subtotal = sum of quantity x unitPrice; discount = discountPercent % of the subtotal; ' +
          'total = subtotal - discount; totalUsd = total x usdRate. Round money to cents and summarize in one sentence.\n' +
          '```json\n' +
          JSON.stringify({ currency, lineItems, discountPercent, usdRate }, null, 2) +
          '\n```'
        );
      }),
    },
    dependencies: {
      classify: ['extract'],
      fetch_market: ['classify'],
      fetch_user: ['classify'],
      calculate: ['fetch_market', 'fetch_user'],
    },
    config: new PipelineConfig({ timeout: 60, retries: 2, retryDelay: 1 }),
  });
}

/** Options of {@link main}, for tests. */
export interface DemoOptions {
  env?: NodeJS.ProcessEnv;
  document?: string;
  /** Receives every line the demo prints. @default console output, with a live progress display on a terminal */
  write?: (line: string) => void;
  /** Where the Gantt chart of the run is written. @default 'demo-output' */
  outputDir?: string;
  /** A step whose model requests fail (HTTP 503), to show how a failed run ends. @default env.DEMO_FAIL_STEP */
  failStep?: string;
  /** The SQLite file the run is recorded in (created with its folder). @default env.DEMO_RUNS_DB or {@link DEFAULT_RUNS_DB} */
  runsDb?: string;
}

/** Where the demo records its runs: the default store of `npx fastroai inspect`. */
export const DEFAULT_RUNS_DB = '.fastroai/runs.db';

/** Errors that {@link main} has already reported in a few lines: the command line prints nothing more. */
const reported = new WeakSet<object>();

/**
 * Runs the demo: prints the model, the levels, progress, the result and the cost table. A failed
 * run prints a short report (the step, its error, the cost so far) and rejects with the error.
 */
export async function main(options: DemoOptions = {}): Promise<PipelineResult<unknown>> {
  const write = options.write ?? ((line: string) => console.log(line));
  const env = options.env ?? process.env;
  const choice = chooseModel(env);
  const failStep = options.failStep ?? (env.DEMO_FAIL_STEP || undefined);
  const pipeline = buildDocumentPipeline(choice, failStep);
  const document = options.document ?? SAMPLE_DOCUMENT;

  write('fastroai document pipeline demo');
  for (const paragraph of choice.description) for (const line of wrap(paragraph)) write(line);
  if (failStep !== undefined) for (const line of wrap(`DEMO_FAIL_STEP=${failStep}: that step's model requests fail (HTTP 503).`)) write(line);
  write('');
  write('Levels (steps of a level run in parallel; a step starts as soon as its');
  write('dependencies finish):');
  pipeline.levels.forEach((ids, level) => write(`  ${level}: ${ids.join(' ∥ ')}`));
  write('');

  // The run is recorded as it goes, so that the run inspector can show it.
  const runsDb = options.runsDb ?? (env.DEMO_RUNS_DB || DEFAULT_RUNS_DB);
  mkdirSync(dirname(runsDb), { recursive: true });
  const store = new SqliteRunStore({ path: runsDb });

  // What the run has cost so far, from its events: a failed run's report needs it.
  const spent = { microcents: 0, completed: 0 };
  const events = pipeline.run({ document }, undefined, { store }).pipe(
    tap((event) => {
      if (event.type === 'step.completed') {
        spent.microcents += event.usage.costMicrocents;
        spent.completed += 1;
      }
      if (event.type === 'step.failed') spent.microcents += costOf((event as { usage?: unknown }).usage);
    }),
  );
  const started = performance.now();
  const output = options.write === undefined ? process.stdout : lineStream(options.write);
  let result: PipelineResult<unknown>;
  try {
    result = await renderProgress(events, { output, width: (output as { isTTY?: boolean }).isTTY ? undefined : COLUMNS });
  } catch (error) {
    write('');
    for (const line of failureReport(error, spent)) write(line);
    if (typeof error === 'object' && error !== null) reported.add(error);
    throw error;
  } finally {
    await store.close();
  }
  const wallMs = performance.now() - started;

  write('');
  write('Result:');
  for (const line of describeOutput(result.output)) write(line);
  write('');
  for (const line of costTable(result, wallMs)) write(line);

  const outputDir = options.outputDir ?? 'demo-output';
  mkdirSync(outputDir, { recursive: true });
  const ganttFile = join(outputDir, 'document-pipeline-gantt.md');
  writeFileSync(ganttFile, `# document_processor run ${result.runId}\n\n\`\`\`mermaid\n${toMermaidGantt(result)}\n\`\`\`\n`);
  write('');
  write('Gantt chart of this run (critical path marked):');
  write(`  ${relative(process.cwd(), ganttFile) || ganttFile}`);
  write('');
  for (const line of inspectHint(runsDb)) write(line);
  return result;
}

/** Where the run is recorded, and the command that shows it in the run inspector. */
function inspectHint(runsDb: string): string[] {
  const isDefault = resolve(runsDb) === resolve(DEFAULT_RUNS_DB);
  // Relative when the file is under the working directory, else absolute (never `../…`).
  const relativePath = relative(process.cwd(), resolve(runsDb));
  const shown = relativePath !== '' && !relativePath.startsWith('..') && !isAbsolute(relativePath) ? relativePath : resolve(runsDb);
  const options = isDefault ? '' : ` --store sqlite:${shown}`;
  return [
    ...wrap(`This run is recorded in ${shown}. To look at it in the run inspector:`),
    `  npx fastroai inspect${options}`,
    ...wrap(`(in a clone of fastroai that is not built: npm run inspect${options === '' ? '' : ` --${options}`})`),
  ];
}

/** A failed run in a few lines: the step, its error, the cost so far. */
function failureReport(error: unknown, spent: { microcents: number; completed: number }): string[] {
  const isStepFailure = StepExecutionError.isInstance(error);
  const cause = isStepFailure ? error.originalError : error;
  const lines = ['The run failed.'];
  if (isStepFailure) lines.push(`  Step:  ${error.stepId}`);
  lines.push(...wrap(`Error: ${cause instanceof Error ? `${cause.message} (${cause.name})` : String(cause)}`, '  ', '         '));
  lines.push(
    `  Cost so far: ${spent.microcents} microcents = ${formatDollars(spent.microcents)}`,
    `  (${spent.completed} of ${DEMO_STEPS.length} steps completed)`,
  );
  return lines;
}

/** The result's fields, one per line, long values wrapped. */
function describeOutput(output: unknown): string[] {
  if (typeof output !== 'object' || output === null) return wrap(String(output), '  ', '    ');
  return Object.entries(output).flatMap(([key, value]) =>
    wrap(`${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`, '  ', '    '),
  );
}

/** Greedy word wrap to {@link COLUMNS}; a word longer than a line is cut. */
function wrap(text: string, indent = '', continuation = indent): string[] {
  const lines: string[] = [];
  let prefix = indent;
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > COLUMNS) {
      lines.push(prefix + line);
      prefix = continuation;
      line = '';
    }
    line = line === '' ? word : `${line} ${word}`;
    while (prefix.length + line.length > COLUMNS) {
      const room = COLUMNS - prefix.length;
      lines.push(prefix + line.slice(0, room));
      prefix = continuation;
      line = line.slice(room);
    }
  }
  if (line !== '') lines.push(prefix + line);
  return lines;
}

/** Integer microcents as dollars, to the microcent: 1_100 → `$0.001100`. */
function formatDollars(microcents: number): string {
  return `$${(microcents / 1_000_000).toFixed(6)}`;
}

function costOf(usage: unknown): number {
  const cost = (usage as { costMicrocents?: unknown } | undefined)?.costMicrocents;
  return typeof cost === 'number' && Number.isFinite(cost) ? cost : 0;
}

/** A stream that hands each written line to `write` (the demo's tests capture lines). */
function lineStream(write: (line: string) => void): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) write(line);
      callback();
    },
  });
}

/**
 * The per-step table of tokens, cost and time, and the total (which the rows add up to
 * exactly), in at most {@link COLUMNS} columns.
 */
function costTable(result: PipelineResult<unknown>, wallMs: number): string[] {
  const usage = result.usage;
  if (usage === undefined) return ['No model calls.'];
  const durations: Record<string, number> = {};
  for (const [stepId, timing] of Object.entries(result.timings)) durations[stepId] = timing.endMs - timing.startMs;
  const header = ['Step', 'Req', 'Tools', 'In tok', 'Cached', 'Out tok', 'Microcents', 'USD', 'Time'];
  const rows = Object.entries(usage.steps).map(([stepId, step]) => [
    stepId,
    String(step.requestCount),
    String(step.toolCallCount),
    String(step.inputTokens),
    String(step.cacheReadTokens),
    String(step.outputTokens),
    String(step.costMicrocents),
    formatDollars(step.costMicrocents),
    `${((durations[stepId] ?? 0) / 1000).toFixed(2)}s`,
  ]);
  const stepSeconds = Object.values(durations).reduce((sum, ms) => sum + ms, 0) / 1000;
  const total = [
    'Total',
    String(usage.totalRequestCount),
    String(usage.totalToolCallCount),
    String(usage.totalInputTokens),
    String(usage.totalCacheReadTokens),
    String(usage.totalOutputTokens),
    String(usage.totalCostMicrocents),
    formatDollars(usage.totalCostMicrocents),
    `${(wallMs / 1000).toFixed(2)}s`,
  ];
  const widths = header.map((title, column) => Math.max(title.length, ...[...rows, total].map((row) => row[column].length)));
  const contentWidth = widths.reduce((sum, width) => sum + width, 0);
  // Two spaces between columns when they fit in the terminal, one otherwise.
  const gap = contentWidth + 2 * (widths.length - 1) <= COLUMNS ? '  ' : ' ';
  const format = (row: string[]) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(gap);
  const rule = widths.map((width) => '─'.repeat(width)).join(gap);
  return [
    format(header),
    rule,
    ...rows.map(format),
    rule,
    format(total),
    '',
    ...wrap(
      `Time: ${(wallMs / 1000).toFixed(2)}s wall clock for ${stepSeconds.toFixed(2)}s of step time ` +
        '(fetch_market and fetch_user ran in parallel).',
    ),
    ...wrap(`Cost: ${usage.totalCostMicrocents} microcents = ${formatDollars(usage.totalCostMicrocents)}, exactly the sum of the step rows.`),
  ];
}

if (require.main === module) {
  const file = process.argv[2];
  Promise.resolve()
    .then(() => main({ document: file ? readFileSync(file, 'utf8') : undefined }))
    .catch((error: unknown) => {
      // A failed run has been reported in a few lines; anything else (a missing file) in one.
      if (!(typeof error === 'object' && error !== null && reported.has(error))) {
        console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      process.exitCode = 1;
    });
}
