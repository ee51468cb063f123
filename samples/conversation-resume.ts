/**
 * Durable runs: a booking conversation where every user turn is a NEW PROCESS that resumes
 * the run from a SQLite file, so the expensive agent steps are paid for once.
 *
 *   extract → classify → gather → book
 *
 * `extract` and `classify` are agent calls (real AI SDK calls, with tokens and a cost).
 * `gather` returns INCOMPLETE until the user has given the city, both dates and the number of
 * guests; `book` depends on it. Turn 1 runs `execute` with a run id; each later turn runs
 * `pipeline.resume(runId, { input })` with that turn's fields, merged over the stored input:
 * extract and classify are restored from their records (not executed, not paid again), and
 * only gather (and, once it completes, book) runs.
 *
 *   npx ts-node samples/conversation-resume.ts [database file]
 *
 * The database defaults to `.fastroai/conversation.db`. This program spawns itself once per
 * scripted user turn (`--turn N`), the way a web app's next request lands on another worker.
 * Offline unless OPENAI_API_KEY is set (then OPENAI_MODEL, default gpt-4o-mini).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { z } from 'zod';
import {
  ConversationState,
  ConversationStatus,
  CostCalculator,
  FastroAgent,
  Pipeline,
  step,
  type PipelineEvent,
  type PipelineResult,
  type RunStore,
  type StepContext,
} from 'fastroai';
import { SqliteRunStore } from 'fastroai/sqlite';
import { createOfflineDemoModel, OFFLINE_DEMO_MODEL_ID } from 'fastroai/testing';

/** What the user must give before the bot can book. */
interface Trip {
  city?: string;
  checkIn?: string;
  checkOut?: string;
  guests?: number;
}

const REQUIRED: ReadonlyArray<keyof Trip> = ['city', 'checkIn', 'checkOut', 'guests'];
const LABELS: Record<keyof Trip, string> = { city: 'city', checkIn: 'check-in date', checkOut: 'check-out date', guests: 'number of guests' };

/**
 * The scripted user: what each turn says, and the fields the app read from it (a chat form's
 * fields or a cheap local parser; the expensive agent steps ran once, on the first message).
 */
export const TURNS: ReadonlyArray<{ say: string; fields: Trip }> = [
  { say: "Hi! I need a hotel room, urgently please. I'll pay in EUR.\nCustomer: Ada Lovelace (customer ID: CUST-1042)", fields: {} },
  { say: 'Lisbon, checking in on 2026-12-10.', fields: { city: 'Lisbon', checkIn: '2026-12-10' } },
  { say: 'Checking out on 2026-12-13, two of us.', fields: { checkOut: '2026-12-13', guests: 2 } },
];

const Customer = z.object({ customer: z.string(), customerId: z.string(), currency: z.string().describe('ISO 4217 code') });
const Request = z.object({
  kind: z.enum(['hotel', 'flight', 'car']),
  priority: z.enum(['low', 'normal', 'high']),
  reason: z.string(),
});
type CustomerOut = z.infer<typeof Customer>;
type RequestOut = z.infer<typeof Request>;

/** A real model when OPENAI_API_KEY is set; else the offline demo model, priced as gpt-4o-mini. */
function chooseModel(env: NodeJS.ProcessEnv) {
  if (env.OPENAI_API_KEY) {
    const name = env.OPENAI_MODEL || 'gpt-4o-mini';
    return { model: `openai:${name}`, costCalculator: new CostCalculator(), description: `openai:${name}` };
  }
  return {
    model: createOfflineDemoModel(),
    // The demo model has no price: give it gpt-4o-mini's, per million tokens.
    costCalculator: new CostCalculator({ pricingOverrides: { [OFFLINE_DEMO_MODEL_ID]: { inputPerMtok: 0.15, outputPerMtok: 0.6 } } }),
    description: 'the offline demo model, priced as gpt-4o-mini',
  };
}

/** The booking pipeline, recording its runs in `store`. */
export function buildBookingPipeline(store: RunStore, env: NodeJS.ProcessEnv = process.env) {
  const { model, costCalculator } = chooseModel(env);
  const extractor = new FastroAgent({ model, costCalculator, temperature: 0, outputType: Customer });
  const classifier = new FastroAgent({ model, costCalculator, temperature: 0, outputType: Request });
  const message = (ctx: StepContext) => ctx.getInput<string>('message');

  // gather: INCOMPLETE until the run's input (every turn merged in) has every field.
  const gather = step((ctx) => {
    const trip: Trip = {};
    for (const field of REQUIRED) (trip as Record<string, unknown>)[field] = ctx.getInput<unknown>(field, undefined);
    const missing = REQUIRED.filter((field) => trip[field] === undefined);
    const status = missing.length > 0 ? ConversationStatus.INCOMPLETE : ConversationStatus.COMPLETE;
    return new ConversationState<Trip>({ status, data: trip, context: { missing } });
  });
  const book = step((ctx) => {
    const trip = ctx.getDependency<ConversationState<Trip>>('gather').data as Required<Trip>;
    const { customer, customerId, currency } = ctx.getDependency<CustomerOut>('extract');
    const { kind } = ctx.getDependency<RequestOut>('classify');
    return (
      `Booked: a ${kind} in ${trip.city} from ${trip.checkIn} to ${trip.checkOut} for ` +
      `${trip.guests} guests, under ${customer} (${customerId}), paid in ${currency}.`
    );
  });

  return new Pipeline({
    name: 'booking_conversation',
    store,
    steps: {
      extract: extractor.asStep((ctx) => `Extract the customer and the currency from this booking request.\n\n${message(ctx)}`),
      classify: classifier.asStep((ctx) => `Classify this booking request: what it books and how urgent it is.\n\n${message(ctx)}`),
      gather,
      book,
    },
    dependencies: { classify: ['extract'], gather: ['classify'], book: ['gather'] },
  });
}

/**
 * One user turn, in this process: `execute` (turn 1) or `resume` the run, then print what the
 * bot says, which steps ran or were restored, and what the turn cost.
 * @param turn 1-based, into {@link TURNS}
 * @param print receives each line @default console.log
 */
export async function runTurn(dbPath: string, runId: string, turn: number, print = (line: string) => console.log(line)): Promise<void> {
  const store = new SqliteRunStore({ path: dbPath });
  try {
    const pipeline = buildBookingPipeline(store);
    const { say, fields } = TURNS[turn - 1];
    const input = { message: say, ...fields };
    // Which steps ran in this process and which were restored from the store, with their cost.
    const ran = new Map<string, { costMicrocents: number; incomplete: boolean }>();
    const restored = new Set<string>();
    const onEvent = (event: PipelineEvent) => {
      if (event.type !== 'step.completed') return;
      if (event.restored) restored.add(event.stepId);
      else {
        const incomplete = event.output instanceof ConversationState && event.output.status === ConversationStatus.INCOMPLETE;
        ran.set(event.stepId, { costMicrocents: event.usage.costMicrocents, incomplete });
      }
    };
    const result =
      turn === 1 ? await pipeline.execute(input, undefined, { runId, onEvent }) : await pipeline.resume(runId, { input, onEvent });

    const call = turn === 1 ? 'execute(input, undefined, { runId })' : `resume(runId, { input: { ${Object.keys(fields).join(', ')} } })`;
    print(rule(`Turn ${turn} · pid ${process.pid} · ${call}`));
    wrap(say, 'user> ').forEach((line) => print(line));
    wrap(botReply(result, turn), 'bot>  ').forEach((line) => print(line));
    print(row('step', 'in this process', 'microcents'));
    for (const stepId of pipeline.levels.flat()) {
      const here = ran.get(stepId);
      if (restored.has(stepId)) print(row(stepId, 'restored (recorded, not paid again)', '0'));
      else if (here !== undefined) print(row(stepId, here.incomplete ? 'ran: INCOMPLETE' : 'ran', String(here.costMicrocents)));
      else print(row(stepId, 'not reached', ''));
    }
    const turnCost = [...ran.values()].reduce((sum, here) => sum + here.costMicrocents, 0);
    const total = result.usage?.totalCostMicrocents ?? 0;
    print(`      turn cost ${turnCost} microcents · run total ${total} (${dollars(total)})`);
  } finally {
    await store.close();
  }
}

/** What the bot says: the fields still missing, or the booking. */
function botReply(result: PipelineResult<unknown>, turn: number): string {
  if (!result.stoppedEarly) return String(result.output);
  const { customer, customerId } = result.stepOutputs.extract as CustomerOut;
  const { kind, priority } = result.stepOutputs.classify as RequestOut;
  const missing = (result.conversationState?.context.missing as Array<keyof Trip>).map((field) => LABELS[field]);
  const greeting = turn === 1 ? `Hello ${customer} (${customerId}), your ${kind} request is ${priority} priority. ` : 'Thanks. ';
  return `${greeting}To book it I still need the ${list(missing)}.`;
}

/** The conversation: one child process per scripted user turn, then the run as the store holds it. */
async function main(dbPath: string): Promise<void> {
  mkdirSync(dirname(dbPath), { recursive: true });
  const runId = randomUUID();
  console.log('A booking conversation, one process per user turn, resumed from SQLite.');
  const shown = relative(process.cwd(), dbPath);
  console.log(`Store: ${shown.startsWith('..') ? dbPath : shown}`);
  console.log(`Model: ${chooseModel(process.env).description}`);
  console.log(`Run:   ${runId}`);
  for (let turn = 1; turn <= TURNS.length; turn++) {
    console.log('');
    await spawnTurn(dbPath, runId, turn);
  }

  const store = new SqliteRunStore({ path: dbPath });
  try {
    const stored = await store.getRun(runId);
    if (stored === undefined) throw new Error(`run ${runId} is not in ${dbPath}`);
    console.log('');
    console.log(rule(`The run in ${basename(dbPath)}: ${stored.run.status}`));
    console.log(row('step', 'records', 'microcents'));
    let total = 0;
    for (const stepId of ['extract', 'classify', 'gather', 'book']) {
      const records = stored.steps.filter((record) => record.stepId === stepId);
      const cost = records.reduce((sum, record) => sum + record.usage.costMicrocents, 0);
      total += cost;
      const counts = ['incomplete', 'failed', 'completed']
        .map((status) => [status, records.filter((record) => record.status === status).length] as const)
        .filter(([, count]) => count > 0)
        .map(([status, count]) => (records.length === 1 ? status : `${count} ${status}`));
      console.log(row(stepId, `${records.length} record${records.length === 1 ? '' : 's'}: ${counts.join(', ')}`, String(cost)));
    }
    console.log(`      paid in all: ${total} microcents (${dollars(total)})`);
  } finally {
    await store.close();
  }
}

/** Runs `--turn N` of this program in a new Node process, its output going to ours. */
function spawnTurn(dbPath: string, runId: string, turn: number): Promise<void> {
  const args = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', __filename];
  // From the repo root, where tsconfig.json maps 'fastroai' to src/.
  const cwd = resolve(__dirname, '..');
  const child = spawn(process.execPath, [...args, '--turn', String(turn), '--run', runId, dbPath], { cwd, stdio: 'inherit' });
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('exit', (code, signal) => (code === 0 ? done() : fail(new Error(`turn ${turn} exited with ${signal ?? code}`))));
  });
}

/** A table row: step, state, cost (right-aligned), no trailing spaces. */
function row(stepId: string, state: string, cost: string): string {
  return `      ${stepId.padEnd(10)}${state.padEnd(38)}${cost.padStart(12)}`.trimEnd();
}

function rule(title: string): string {
  return `── ${title} `.padEnd(80, '─');
}

/** Wraps text to 80 columns, the first line after `prefix`, the others indented as far. */
function wrap(text: string, prefix: string): string[] {
  const lines: string[] = [];
  const indent = ' '.repeat(prefix.length);
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/)) {
      if (line !== '' && (lines.length === 0 ? prefix : indent).length + line.length + 1 + word.length > 80) {
        lines.push((lines.length === 0 ? prefix : indent) + line);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    lines.push((lines.length === 0 ? prefix : indent) + line);
  }
  return lines;
}

function list(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function dollars(microcents: number): string {
  return `$${(microcents / 1_000_000).toFixed(6)}`;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const option = (name: string) => {
    const index = argv.indexOf(name);
    return index < 0 ? undefined : argv.splice(index, 2)[1];
  };
  const turn = option('--turn');
  const runId = option('--run');
  const dbPath = resolve(argv[0] ?? '.fastroai/conversation.db');
  const done = turn === undefined ? main(dbPath) : runTurn(dbPath, runId!, Number(turn));
  done.catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
