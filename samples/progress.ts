/**
 * Live progress for a pipeline run: `renderProgress(pipeline.run(input, deps))` draws one
 * line per step (state and elapsed time), a bar of finished/total steps and the cost so far,
 * and prints "level k done" as each level finishes. When the output is not a terminal (CI,
 * a pipe, a log file) it prints plain log lines instead.
 *
 * The live display uses cli-progress (3.12): CommonJS, so it also loads inside jest; its
 * MultiBar redraws a block of lines in place and prints log lines above it.
 *
 * Run it on its own for a demo: `npx ts-node samples/progress.ts`.
 */
import { MultiBar, Format, type Options, type Params, type SingleBar } from 'cli-progress';
import type { Observable } from 'rxjs';
import { Pipeline, PipelineConfig, step, type PipelineEvent, type PipelineResult } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';

/** Options of {@link renderProgress}. */
export interface RenderProgressOptions {
  /** Where to draw. @default process.stdout */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Live display (true) or plain log lines (false). @default whether `stream` is a terminal */
  live?: boolean;
  /** Stops watching: unsubscribes, which cancels the run, and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Clock in milliseconds (tests pass a fake one). @default performance.now */
  now?: () => number;
}

type StepState = 'waiting' | 'running' | 'retrying' | 'done' | 'failed' | 'skipped';

interface StepLine {
  id: string;
  level: number;
  state: StepState;
  attempt: number;
  startedAtMs: number;
  durationMs: number;
  costMicrocents: number;
  note: string;
}

/**
 * Subscribes to a run's progress stream (which starts the run) and renders it.
 *
 * @param events$ `pipeline.run(input, deps)`
 * @returns the run's result (from `pipeline.completed`); rejects as the stream errors
 * @example
 * const result = await renderProgress(pipeline.run({ document }, deps));
 */
export function renderProgress<O>(events$: Observable<PipelineEvent<O>>, options: RenderProgressOptions = {}): Promise<PipelineResult<O>> {
  const stream = options.stream ?? process.stdout;
  const view = (options.live ?? stream.isTTY === true) ? new LiveView(stream, options.now) : new LogView(stream, options.now);
  return new Promise<PipelineResult<O>>((resolve, reject) => {
    let result: PipelineResult<O> | undefined;
    const onAbort = () => {
      subscription.unsubscribe();
      view.end(`cancelled: ${describe(options.signal?.reason)}`);
      reject(options.signal?.reason);
    };
    const subscription = events$.subscribe({
      next: (event) => {
        if (event.type === 'pipeline.completed') result = event.result;
        view.handle(event as PipelineEvent);
      },
      error: (error: unknown) => {
        options.signal?.removeEventListener('abort', onAbort);
        view.end(`failed: ${describe(error)}`);
        reject(error);
      },
      complete: () => {
        options.signal?.removeEventListener('abort', onAbort);
        if (result === undefined) {
          view.end('ended without a result');
          reject(new Error('the progress stream completed without a pipeline.completed event'));
          return;
        }
        view.end(view.summary(result));
        resolve(result);
      },
    });
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What both views keep: the steps, how many finished, the cost so far. */
abstract class ProgressView {
  protected pipeline = 'pipeline';
  protected readonly steps = new Map<string, StepLine>();
  protected finished = 0;
  protected costMicrocents = 0;
  protected startedAtMs: number;

  constructor(
    protected readonly stream: NodeJS.WritableStream,
    protected readonly now: () => number = () => performance.now(),
  ) {
    this.startedAtMs = this.now();
  }

  handle(event: PipelineEvent): void {
    switch (event.type) {
      case 'pipeline.started':
        this.pipeline = event.pipeline;
        this.startedAtMs = this.now();
        event.levels.forEach((ids, level) => {
          for (const id of ids) {
            this.steps.set(id, { id, level, state: 'waiting', attempt: 0, startedAtMs: 0, durationMs: 0, costMicrocents: 0, note: '' });
          }
        });
        this.started(event.levels);
        return;
      case 'step.started':
        this.update(event.stepId, { state: 'running', attempt: event.attempt, startedAtMs: this.now() });
        break;
      case 'step.retrying':
        this.update(event.stepId, { state: 'retrying', note: `attempt ${event.attempt} failed (${event.error.message}), retrying in ${event.delaySeconds.toFixed(1)} s` });
        break;
      case 'step.completed':
        this.finished += 1;
        this.costMicrocents += event.usage.costMicrocents;
        this.update(event.stepId, { state: 'done', durationMs: event.durationMs, costMicrocents: event.usage.costMicrocents });
        break;
      case 'step.failed':
        this.finished += 1;
        this.update(event.stepId, { state: 'failed', durationMs: this.now() - (this.steps.get(event.stepId)?.startedAtMs ?? this.now()), note: event.error.message });
        break;
      case 'step.skipped':
        this.finished += 1;
        this.update(event.stepId, { state: 'skipped', note: event.reason });
        break;
      default:
        break;
    }
    this.changed(event);
  }

  /** The last line: time, steps, cost, and what went wrong. */
  summary(result: PipelineResult<unknown>): string {
    const parts = [`finished in ${formatMs(this.now() - this.startedAtMs)}`, `${this.finished}/${this.steps.size} steps`, `cost ${formatDollars(this.costMicrocents)}`];
    const failed = Object.keys(result.errors);
    if (failed.length > 0) parts.push(`failed: ${failed.join(', ')}`);
    if (result.skipped.length > 0) parts.push(`skipped: ${result.skipped.join(', ')}`);
    if (result.stoppedEarly) parts.push('stopped early (INCOMPLETE)');
    return parts.join(', ');
  }

  protected elapsed(): string {
    return `${((this.now() - this.startedAtMs) / 1000).toFixed(3)} s`;
  }

  private update(id: string, change: Partial<StepLine>): void {
    const line = this.steps.get(id);
    if (line !== undefined) Object.assign(line, change);
  }

  protected abstract started(levels: string[][]): void;
  protected abstract changed(event: PipelineEvent): void;
  abstract end(message: string): void;
}

/** Plain log lines, one per event: for CI logs, pipes and files. */
class LogView extends ProgressView {
  protected started(levels: string[][]): void {
    this.log(`${this.pipeline}: ${this.steps.size} steps in ${levels.length} levels`);
  }

  protected changed(event: PipelineEvent): void {
    switch (event.type) {
      case 'step.started':
        this.log(event.attempt === 1 ? `${event.stepId} started` : `${event.stepId} started (attempt ${event.attempt})`);
        return;
      case 'step.retrying':
        this.log(`${event.stepId} ${this.steps.get(event.stepId)?.note ?? 'retrying'}`);
        return;
      case 'step.completed': {
        const cost = event.usage.costMicrocents > 0 ? `, ${formatDollars(event.usage.costMicrocents)}` : '';
        this.log(`${event.stepId} done in ${formatMs(event.durationMs)}${cost} [${this.finished}/${this.steps.size}, cost so far ${formatDollars(this.costMicrocents)}]`);
        return;
      }
      case 'step.failed':
        this.log(`${event.stepId} failed: ${event.error.message} [${this.finished}/${this.steps.size}]`);
        return;
      case 'step.skipped':
        this.log(`${event.stepId} skipped: ${event.reason} [${this.finished}/${this.steps.size}]`);
        return;
      case 'level.completed':
        this.log(`level ${event.level} done (${event.stepIds.join(', ')})`);
        return;
      case 'pipeline.stopped':
        this.log('stopped early: a step returned INCOMPLETE; running steps finish, nothing new starts');
        return;
      default:
        return;
    }
  }

  end(message: string): void {
    this.log(`${this.pipeline} ${message}`);
  }

  private log(text: string): void {
    this.stream.write(`[${this.elapsed()}] ${text}\n`);
  }
}

const ICONS: Record<StepState, string> = { waiting: '·', running: '▶', retrying: '↻', done: '✓', failed: '✗', skipped: '–' };

/** The live display: a bar of finished/total and cost, then one line per step, redrawn in place. */
class LiveView extends ProgressView {
  private bars: MultiBar | undefined;
  private overall: SingleBar | undefined;
  private idWidth = 0;

  protected started(levels: string[][]): void {
    this.idWidth = Math.max(...[...this.steps.keys()].map((id) => id.length));
    this.bars = new MultiBar({
      stream: this.stream as NodeJS.WritableStream,
      format: (options, params, payload: { id?: string }) => this.format(options, params, payload),
      barsize: 24,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      // Redraw every line on every tick: running steps' elapsed times change, and a log line
      // printed above the block must not leave stale lines behind.
      forceRedraw: true,
      fps: 10,
    });
    this.overall = this.bars.create(this.steps.size, 0, {});
    for (const ids of levels) for (const id of ids) this.bars.create(1, 0, { id });
  }

  protected changed(event: PipelineEvent): void {
    this.overall?.update(this.finished);
    if (event.type === 'level.completed') this.bars?.log(`level ${event.level} done (${event.stepIds.join(', ')})\n`);
    if (event.type === 'pipeline.stopped') this.bars?.log('stopped early: a step returned INCOMPLETE\n');
  }

  end(message: string): void {
    // stop() draws the lines once more but does not flush lines logged since the last tick.
    this.bars?.update();
    this.bars?.stop();
    this.stream.write(`${this.pipeline} ${message}\n`);
  }

  private format(options: Options, params: Params, payload: { id?: string }): string {
    if (payload.id === undefined) {
      const bar = Format.BarFormat(params.progress, options);
      return `${this.pipeline} ${bar} ${this.finished}/${this.steps.size} steps | ${this.elapsed()} | cost ${formatDollars(this.costMicrocents)}`;
    }
    const line = this.steps.get(payload.id)!;
    const name = `${ICONS[line.state]} ${line.id.padEnd(this.idWidth)}  L${line.level}`;
    switch (line.state) {
      case 'waiting':
        return `  ${name}  waiting`;
      case 'running':
        return `  ${name}  running ${formatMs(this.now() - line.startedAtMs)}${line.attempt > 1 ? ` (attempt ${line.attempt})` : ''}`;
      case 'retrying':
        return `  ${name}  ${line.note}`;
      case 'done':
        return `  ${name}  done in ${formatMs(line.durationMs)}${line.costMicrocents > 0 ? `  ${formatDollars(line.costMicrocents)}` : ''}`;
      case 'failed':
        return `  ${name}  failed: ${line.note}`;
      case 'skipped':
        return `  ${name}  skipped: ${line.note}`;
    }
  }
}

/** Integer microcents as dollars: 1_100 → `$0.001100`. */
export function formatDollars(microcents: number): string {
  return `$${(microcents / 1_000_000).toFixed(6)}`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/* Demo: a small pipeline with parallel steps, a model call (a scripted mock) and a retry. */
async function main(): Promise<void> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const classifier = createMockAgent<string>([{ output: 'invoice', inputTokens: 420, outputTokens: 3, costMicrocents: 81, delayMs: 250 }]);
  let marketCalls = 0;
  const pipeline = new Pipeline({
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
  const result = await renderProgress(pipeline.run({ document: 'invoice total 1000 EUR' }));
  console.log(`output: ${String(result.output)} USD`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
