import { PassThrough } from 'node:stream';
import { Observable, Subject } from 'rxjs';
import { Pipeline, StepUsage, step, type PipelineEvent, type PipelineResult } from 'fastroai';
import { formatDollars, renderProgress } from '../../samples/progress';
import { deferred } from '../support/async-helpers';

/** A non-TTY stream that keeps what was written. */
function captureStream(isTTY = false): PassThrough & { isTTY: boolean; columns: number; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; text: () => string };
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  stream.isTTY = isTTY;
  stream.columns = 120;
  stream.text = () => chunks.join('');
  return stream;
}

const result = (fields: Partial<PipelineResult<number>> = {}): PipelineResult<number> => ({
  runId: 'run-1',
  output: 972,
  stepOutputs: {},
  conversationState: undefined,
  usage: undefined,
  stoppedEarly: false,
  errors: {},
  skipped: [],
  timings: {},
  ...fields,
});

/** Strips ANSI escape sequences (cursor moves, line clears) from live output. */
function plain(text: string): string {
  return text.replace(/\x1B\[[0-9;?]*[A-Za-z]|\x1B[78]/g, '');
}

describe('renderProgress, not a terminal: plain log lines', () => {
  it('prints one line per event, "level k done" lines, cost so far and a summary', async () => {
    const events = new Subject<PipelineEvent<number>>();
    const stream = captureStream();
    let nowMs = 0;
    const done = renderProgress(events, { stream, now: () => nowMs });
    const at = (ms: number, event: PipelineEvent<number>) => {
      nowMs = ms;
      events.next(event);
    };
    at(0, { type: 'pipeline.started', pipeline: 'document_processor', runId: 'run-1', levels: [['extract'], ['classify', 'lookup'], ['calculate']] });
    at(1, { type: 'step.started', stepId: 'extract', level: 0, attempt: 1 });
    at(120, { type: 'step.completed', stepId: 'extract', level: 0, output: [], usage: new StepUsage(), durationMs: 119.4 });
    at(120, { type: 'level.completed', level: 0, stepIds: ['extract'] });
    at(121, { type: 'step.started', stepId: 'classify', level: 1, attempt: 1 });
    at(121, { type: 'step.started', stepId: 'lookup', level: 1, attempt: 1 });
    at(300, { type: 'step.retrying', stepId: 'lookup', attempt: 1, error: new Error('rate limited'), delaySeconds: 0.5 });
    at(380, { type: 'step.completed', stepId: 'classify', level: 1, output: 'invoice', usage: new StepUsage({ costMicrocents: 1_100 }), durationMs: 259 });
    at(800, { type: 'step.started', stepId: 'lookup', level: 1, attempt: 2 });
    at(900, { type: 'step.failed', stepId: 'lookup', level: 1, error: new Error("Step 'lookup' failed: rate limited"), usage: new StepUsage() });
    at(900, { type: 'step.skipped', stepId: 'calculate', reason: "dependency 'lookup' failed" });
    at(900, { type: 'level.completed', level: 1, stepIds: ['classify', 'lookup'] });
    at(900, { type: 'level.completed', level: 2, stepIds: ['calculate'] });
    const final = result({ output: undefined, errors: { lookup: new Error('rate limited') }, skipped: ['calculate'] });
    at(901, { type: 'pipeline.completed', result: final });
    events.complete();

    await expect(done).resolves.toBe(final);
    expect(stream.text().split('\n')).toEqual([
      '[0.000 s] document_processor: 4 steps in 3 levels',
      '[0.001 s] extract started',
      '[0.120 s] extract done in 119 ms [1/4, cost so far $0.000000]',
      '[0.120 s] level 0 done (extract)',
      '[0.121 s] classify started',
      '[0.121 s] lookup started',
      '[0.300 s] lookup attempt 1 failed (rate limited), retrying in 0.5 s',
      '[0.380 s] classify done in 259 ms, $0.001100 [2/4, cost so far $0.001100]',
      '[0.800 s] lookup started (attempt 2)',
      "[0.900 s] lookup failed: Step 'lookup' failed: rate limited [3/4]",
      "[0.900 s] calculate skipped: dependency 'lookup' failed [4/4]",
      '[0.900 s] level 1 done (classify, lookup)',
      '[0.900 s] level 2 done (calculate)',
      '[0.901 s] document_processor finished in 901 ms, 4/4 steps, cost $0.001100, failed: lookup, skipped: calculate',
      '',
    ]);
  });

  it("renders a real run's stream and resolves with its result", async () => {
    const pipeline = new Pipeline({
      name: 'tiny',
      steps: { a: step(() => 1), b: step(() => 2), sum: step((ctx) => ctx.getDependency<number>('a') + ctx.getDependency<number>('b')) },
      dependencies: { sum: ['a', 'b'] },
    });
    const stream = captureStream();
    const outcome = await renderProgress(pipeline.run({}), { stream });
    expect(outcome.output).toBe(3);
    const lines = stream.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\[\d+\.\d{3} s\] tiny: 3 steps in 2 levels$/);
    expect(lines.filter((line) => / level \d done /.test(line)).map((line) => line.replace(/^\[[^\]]+\] /, ''))).toEqual([
      'level 0 done (a, b)',
      'level 1 done (sum)',
    ]);
    expect(lines.filter((line) => / done in /.test(line))).toHaveLength(3);
    expect(lines[lines.length - 1]).toMatch(/ tiny finished in \d+ ms, 3\/3 steps, cost \$0\.000000$/);
  });

  it('prints the failure and rejects with the same error when the run fails', async () => {
    const boom = new Error('boom');
    const pipeline = new Pipeline({
      name: 'failing',
      steps: {
        a: step(() => {
          throw boom;
        }),
      },
    });
    const stream = captureStream();
    const error = await renderProgress(pipeline.run({}), { stream }).catch((thrown: unknown) => thrown);
    expect((error as Error).message).toBe("Step 'a' failed: boom");
    expect(stream.text().trimEnd().split('\n').pop()).toMatch(/ failing failed: Step 'a' failed: boom$/);
  });

  it('says when a run stopped early', async () => {
    const events = new Subject<PipelineEvent>();
    const stream = captureStream();
    const done = renderProgress(events, { stream, now: () => 0 });
    events.next({ type: 'pipeline.started', pipeline: 'chat', runId: 'r', levels: [['ask']] });
    events.next({ type: 'pipeline.stopped', conversationState: {} as never });
    events.next({ type: 'pipeline.completed', result: result({ stoppedEarly: true, output: undefined }) });
    events.complete();
    await done;
    expect(stream.text()).toContain('[0.000 s] stopped early: a step returned INCOMPLETE');
    expect(stream.text()).toContain('chat finished in 0 ms, 0/1 steps, cost $0.000000, stopped early (INCOMPLETE)');
  });

  it('unsubscribes (cancelling the run) and rejects when its signal aborts', async () => {
    const release = deferred();
    let unsubscribed = false;
    const pipeline = new Pipeline({
      name: 'slow',
      steps: { wait: step(async (ctx) => Promise.race([release.promise, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))])) },
    });
    const run$ = pipeline.run({});
    const watched = new Observable<PipelineEvent>((subscriber) => {
      const inner = run$.subscribe(subscriber);
      return () => {
        unsubscribed = true;
        inner.unsubscribe();
      };
    });
    const controller = new AbortController();
    const stream = captureStream();
    const done = renderProgress(watched, { stream, signal: controller.signal });
    controller.abort(new Error('user pressed Ctrl-C'));
    await expect(done).rejects.toThrow('user pressed Ctrl-C');
    expect(unsubscribed).toBe(true);
    expect(stream.text()).toContain('slow cancelled: user pressed Ctrl-C');
    release.resolve();
  });
});

describe('renderProgress on a terminal: live lines', () => {
  it('draws the bar and one line per step, logs "level k done" above them, and ends with the summary', async () => {
    const pipeline = new Pipeline({
      name: 'live',
      steps: { first: step(() => 1), second: step(() => 2) },
      dependencies: { second: ['first'] },
    });
    const stream = captureStream(true);
    await renderProgress(pipeline.run({}), { stream });
    const text = plain(stream.text());
    expect(text).toContain('level 0 done (first)');
    expect(text).toContain('level 1 done (second)');
    expect(text).toMatch(/live [█]{24} 2\/2 steps \| \d+\.\d{3} s \| cost \$0\.000000/);
    expect(text).toMatch(/✓ first\s+L0\s+done in \d+ ms/);
    expect(text).toMatch(/✓ second\s+L1\s+done in \d+ ms/);
    expect(text.trimEnd().split('\n').pop()).toMatch(/^live finished in \d+ ms, 2\/2 steps, cost \$0\.000000$/);
  });
});

describe('formatDollars', () => {
  it('shows integer microcents as dollars to the microcent', () => {
    expect(formatDollars(0)).toBe('$0.000000');
    expect(formatDollars(1_100)).toBe('$0.001100');
    expect(formatDollars(100_000)).toBe('$0.100000');
  });
});
