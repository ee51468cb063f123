import { EventEmitter } from 'node:events';
import { Observable, Subject } from 'rxjs';
import { Pipeline, PipelineAbortedError, StepUsage, step, type PipelineEvent, type PipelineResult } from 'fastroai';
import { renderProgress } from 'fastroai/progress';
import { renderProgressWith, type ProgressEnvironment } from '../../src/progress/render-progress';
import type { SignalProcess } from '../../src/progress/watch-interrupts';
import { deferred } from '../support/async-helpers';
import { captureOutput, stripAnsi } from '../support/capture-output';

const SHOW_CURSOR = '\x1b[?25h';
const HIDE_CURSOR = '\x1b[?25l';

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

/** A process stand-in: signals are emitted by the test; `kill` records what was raised. */
class FakeProcess extends EventEmitter implements SignalProcess {
  readonly pid = 4242;
  readonly raised: string[] = [];
  kill(_pid: number, signal: 'SIGINT' | 'SIGTERM'): boolean {
    this.raised.push(signal);
    return true;
  }
}

const environment = (overrides: Partial<ProgressEnvironment> = {}): ProgressEnvironment => ({
  now: () => 0,
  process: new FakeProcess(),
  ...overrides,
});

/** A one-step pipeline whose step waits until released or aborted; tells whether it was aborted. */
function slowPipeline() {
  const release = deferred();
  const aborted = deferred<boolean>();
  const pipeline = new Pipeline({
    name: 'slow',
    steps: {
      wait: step(async (ctx) => {
        await Promise.race([release.promise, new Promise((resolve) => ctx.signal.addEventListener('abort', resolve))]);
        aborted.resolve(ctx.signal.aborted);
      }),
    },
  });
  return { pipeline, release, aborted: aborted.promise };
}

describe('renderProgress off a terminal: plain lines', () => {
  it('prints one stamped line per event, "level k done" lines, the cost so far and a summary', async () => {
    const events = new Subject<PipelineEvent<number>>();
    const output = captureOutput();
    let nowMs = 0;
    const done = renderProgressWith(events, { output }, environment({ now: () => nowMs }));
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
    expect(output.text().split('\n')).toEqual([
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
    expect(output.text()).not.toContain('\x1b');
  });

  it("renders a real run's stream and resolves with its result", async () => {
    const pipeline = new Pipeline({
      name: 'tiny',
      steps: { a: step(() => 1), b: step(() => 2), sum: step((ctx) => ctx.getDependency<number>('a') + ctx.getDependency<number>('b')) },
      dependencies: { sum: ['a', 'b'] },
    });
    const output = captureOutput();
    const outcome = await renderProgress(pipeline.run({}), { output });
    expect(outcome.output).toBe(3);
    const lines = output.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\[\d+\.\d{3} s\] tiny: 3 steps in 2 levels$/);
    expect(lines.filter((line) => / level \d done /.test(line)).map((line) => line.replace(/^\[[^\]]+\] /, ''))).toEqual([
      'level 0 done (a, b)',
      'level 1 done (sum)',
    ]);
    expect(lines.filter((line) => / done in /.test(line))).toHaveLength(3);
    expect(lines[lines.length - 1]).toMatch(/ tiny finished in \d+ ms, 3\/3 steps, cost \$0\.000000$/);
  });

  it('prints the failure and rejects with the run\'s own error', async () => {
    const pipeline = new Pipeline({
      name: 'failing',
      steps: {
        a: step(() => {
          throw new Error('boom');
        }),
      },
    });
    const output = captureOutput();
    const run$ = pipeline.run({});
    let streamError: unknown;
    run$.subscribe({ error: (error: unknown) => (streamError = error) });
    const error = await renderProgress(run$, { output }).catch((thrown: unknown) => thrown);
    expect((error as Error).message).toBe("Step 'a' failed: boom");
    expect((error as Error).name).toBe((streamError as Error).name);
    expect(output.text().trimEnd().split('\n').pop()).toMatch(/ failing failed: Step 'a' failed: boom$/);
  });

  it('says when a run stopped early', async () => {
    const events = new Subject<PipelineEvent>();
    const output = captureOutput();
    const done = renderProgressWith(events, { output }, environment());
    events.next({ type: 'pipeline.started', pipeline: 'chat', runId: 'r', levels: [['ask']] });
    events.next({ type: 'pipeline.stopped', conversationState: {} as never });
    events.next({ type: 'pipeline.completed', result: result({ stoppedEarly: true, output: undefined }) });
    events.complete();
    await done;
    expect(output.text()).toContain('[0.000 s] stopped early: a step returned INCOMPLETE');
    expect(output.text()).toContain('chat finished in 0 ms, 0/1 steps, cost $0.000000, stopped early (INCOMPLETE)');
  });

  it("names the worker of each step of a distributed run (API.md §13)", async () => {
    const events = new Subject<PipelineEvent>();
    const output = captureOutput();
    const done = renderProgressWith(events, { output }, environment());
    events.next({ type: 'pipeline.started', pipeline: 'docs', runId: 'r', levels: [['extract']] });
    events.next({ type: 'step.started', stepId: 'extract', level: 0, attempt: 1, workerId: 'host-a:41' });
    events.next({ type: 'step.completed', stepId: 'extract', level: 0, output: [], usage: new StepUsage(), durationMs: 12, workerId: 'host-a:41' });
    events.next({ type: 'pipeline.completed', result: result() });
    events.complete();
    await done;
    expect(output.text()).toContain('extract started on host-a:41\n');
    expect(output.text()).toContain('extract done in 12 ms on host-a:41 [1/1');
  });

  it('cuts plain lines to `width` when it is given', async () => {
    const events = new Subject<PipelineEvent>();
    const output = captureOutput();
    const done = renderProgressWith(events, { output, width: 40 }, environment());
    events.next({ type: 'pipeline.started', pipeline: 'p', runId: 'r', levels: [['a']] });
    events.next({ type: 'step.failed', stepId: 'a', level: 0, error: new Error('x'.repeat(200)), usage: new StepUsage() });
    events.error(new Error('y'.repeat(200)));
    await expect(done).rejects.toThrow('y'.repeat(200));
    const lines = output.text().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(40);
    expect(lines[1]).toMatch(/^\[0\.000 s\] a failed: x+…$/);
  });

  it('installs no signal handler: there is no terminal to restore', async () => {
    const proc = new FakeProcess();
    const events = new Subject<PipelineEvent>();
    const done = renderProgressWith(events, { output: captureOutput() }, environment({ process: proc }));
    expect(proc.listenerCount('SIGINT')).toBe(0);
    events.next({ type: 'pipeline.completed', result: result() });
    events.complete();
    await done;
  });

  it('rejects when the stream completes without a pipeline.completed event', async () => {
    const done = renderProgressWith(new Observable<PipelineEvent>((subscriber) => subscriber.complete()), { output: captureOutput() }, environment());
    await expect(done).rejects.toThrow('without a pipeline.completed event');
  });

  it.each([
    ['no stream', undefined, {}, /expects a run's event stream/],
    ['a promise for a stream', Promise.resolve(), {}, /expects a run's event stream/],
    ['options that are not an object', new Subject(), 'wide', /options must be an object, got the string 'wide'/],
    ['an output without write()', new Subject(), { output: {} }, /output must be a writable stream/],
    ['a width that is not a column count', new Subject(), { width: 12.5 }, /width must be an integer >= 10/],
    ['a tiny width', new Subject(), { width: 3 }, /width must be an integer >= 10/],
  ])('rejects %s with a TypeError naming what arrived', async (_name, events, options, message) => {
    const done = renderProgress(events as never, options as never);
    await expect(done).rejects.toThrow(TypeError);
    await expect(done).rejects.toThrow(message);
  });
});

describe('renderProgress on a terminal: bars and a line per step', () => {
  it('hides the cursor, draws the bar and one line per step, logs levels above them, then shows the cursor', async () => {
    const pipeline = new Pipeline({
      name: 'live',
      steps: { first: step(() => 1), second: step(() => 2) },
      dependencies: { second: ['first'] },
    });
    const output = captureOutput({ isTTY: true, columns: 100 });
    await renderProgress(pipeline.run({}), { output });
    const raw = output.text();
    expect(raw.startsWith(HIDE_CURSOR)).toBe(true);
    expect(raw.endsWith(`\n${SHOW_CURSOR}`)).toBe(true);
    expect(raw).toMatch(/\x1b\[\d+F/); // redrawn in place
    const text = stripAnsi(raw);
    expect(text).toContain('level 0 done (first)');
    expect(text).toContain('level 1 done (second)');
    expect(text).toMatch(/live █{24} 2\/2 steps \| \d+\.\d{3} s \| cost \$0\.000000/);
    expect(text).toMatch(/✓ first\s+L0\s+done in \d+ ms/);
    expect(text).toMatch(/✓ second\s+L1\s+done in \d+ ms/);
    expect(text.trimEnd().split('\n').pop()).toMatch(/^live finished in \d+ ms, 2\/2 steps, cost \$0\.000000$/);
  });

  it('never writes a line wider than the terminal', async () => {
    const events = new Subject<PipelineEvent>();
    const output = captureOutput({ isTTY: true, columns: 40 });
    const done = renderProgressWith(events, { output }, environment());
    events.next({ type: 'pipeline.started', pipeline: 'a_pipeline_with_a_long_name', runId: 'r', levels: [['a_step_with_a_rather_long_identifier']] });
    events.next({ type: 'step.started', stepId: 'a_step_with_a_rather_long_identifier', level: 0, attempt: 1 });
    events.next({ type: 'step.retrying', stepId: 'a_step_with_a_rather_long_identifier', attempt: 1, error: new Error('e'.repeat(90)), delaySeconds: 1 });
    events.next({ type: 'pipeline.completed', result: result() });
    events.complete();
    await done;
    const lines = stripAnsi(output.text()).split('\n');
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) expect(Array.from(line).length).toBeLessThan(40);
  });

  it('treats a terminal that reports 0 columns and 0 rows (an unsized pseudo-terminal) as 80 columns, rows unknown', async () => {
    const events = new Subject<PipelineEvent>();
    const output = captureOutput({ isTTY: true, columns: 0, rows: 0 });
    const done = renderProgressWith(events, { output }, environment());
    events.next({ type: 'pipeline.started', pipeline: 'waiting_pipeline', runId: 'r', levels: [['first', 'second']] });
    events.next({ type: 'pipeline.completed', result: result() });
    events.complete();
    await done;
    const text = stripAnsi(output.text());
    expect(text).toMatch(/^waiting_pipeline ░{24} 0\/2 steps/m);
    expect(text).toMatch(/· first\s+L0\s+waiting/);
    expect(text).toMatch(/· second\s+L0\s+waiting/);
  });

  it('narrows the bar rather than cut the counts and the cost off the header', async () => {
    const events = new Subject<PipelineEvent>();
    const output = captureOutput({ isTTY: true, columns: 80 });
    const done = renderProgressWith(events, { output }, environment());
    events.next({ type: 'pipeline.started', pipeline: 'document_processor', runId: 'r', levels: [['extract']] });
    events.next({ type: 'step.completed', stepId: 'extract', level: 0, output: 1, usage: new StepUsage({ costMicrocents: 268 }), durationMs: 5 });
    events.next({ type: 'pipeline.completed', result: result() });
    events.complete();
    await done;
    expect(stripAnsi(output.text())).toMatch(/^document_processor █{10,23} 1\/1 steps \| 0\.000 s \| cost \$0\.000268$/m);
  });

  it('uses `width` over the terminal columns', async () => {
    const events = new Subject<PipelineEvent>();
    const output = captureOutput({ isTTY: true, columns: 200 });
    const done = renderProgressWith(events, { output, width: 30 }, environment());
    events.next({ type: 'pipeline.started', pipeline: 'p', runId: 'r', levels: [['a']] });
    events.next({ type: 'step.failed', stepId: 'a', level: 0, error: new Error('z'.repeat(100)), usage: new StepUsage() });
    events.next({ type: 'pipeline.completed', result: result() });
    events.complete();
    await done;
    for (const line of stripAnsi(output.text()).split('\n')) expect(Array.from(line).length).toBeLessThan(30);
    expect(stripAnsi(output.text())).toMatch(/✗ a\s+L0\s+failed: z+…/);
  });

  it('on a terminal too short for every step, shows the moving ones and counts the rest', async () => {
    const ids = Array.from({ length: 30 }, (_, index) => `s${index}`);
    const events = new Subject<PipelineEvent>();
    const output = captureOutput({ isTTY: true, columns: 80, rows: 8 });
    const done = renderProgressWith(events, { output }, environment());
    events.next({ type: 'pipeline.started', pipeline: 'wide', runId: 'r', levels: [ids] });
    events.next({ type: 'step.started', stepId: 's17', level: 0, attempt: 1 });
    const redraws = output.text().split(/\x1b\[\d+F/);
    const lastRedraw = stripAnsi(redraws[redraws.length - 1]);
    expect(lastRedraw).toContain('▶ s17');
    expect(lastRedraw).toContain('… and 26 more steps (0 finished, 26 waiting)');
    // Never more rows than the terminal has, minus one for the cursor: the block would scroll.
    expect(lastRedraw.split('\n').length - 1).toBe(6);
    events.error(new Error('stop'));
    await expect(done).rejects.toThrow('stop');
  });

  it('restores the cursor and rejects with the run\'s error when the run fails', async () => {
    const pipeline = new Pipeline({
      name: 'failing',
      steps: {
        a: step(() => {
          throw new Error('boom');
        }),
      },
    });
    const output = captureOutput({ isTTY: true, columns: 80 });
    await expect(renderProgress(pipeline.run({}), { output })).rejects.toThrow("Step 'a' failed: boom");
    const raw = output.text();
    expect(raw.endsWith(`\n${SHOW_CURSOR}`)).toBe(true);
    expect(stripAnsi(raw).trimEnd().split('\n').pop()).toBe("failing failed: Step 'a' failed: boom");
  });

  it("prints an error with line breaks and escape sequences (a model's text) as one line, with no control character reaching the terminal", async () => {
    const pipeline = new Pipeline({
      name: 'noisy',
      steps: {
        a: step(() => {
          throw new Error('Invalid output:\n  - field x\n\x1b[2J\x1b]0;title\x07 done');
        }),
      },
    });
    const output = captureOutput({ isTTY: true, columns: 200 });
    await expect(renderProgress(pipeline.run({}), { output })).rejects.toThrow('Invalid output');
    const raw = output.text();
    // Only the view's own sequences (cursor, clear line, cursor up) reach the terminal.
    const foreign = raw.replace(/\x1b\[\?25[lh]|\x1b\[2?[JK]|\x1b\[\d+F/g, '');
    expect(foreign).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(stripAnsi(raw).trimEnd().split('\n').pop()).toBe("noisy failed: Step 'a' failed: Invalid output:   - field x \uFFFD[2J\uFFFD]0;title\uFFFD done");
    const plain = captureOutput({ isTTY: false });
    await expect(renderProgress(pipeline.run({}), { output: plain })).rejects.toThrow('Invalid output');
    expect(plain.text()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(plain.text()).toContain('Invalid output:   - field x');
  });

  it('on SIGINT: shows the cursor, cancels the run, rejects, removes its handlers and raises SIGINT again', async () => {
    const proc = new FakeProcess();
    const { pipeline, aborted } = slowPipeline();
    const output = captureOutput({ isTTY: true, columns: 80 });
    const done = renderProgressWith(pipeline.run({}), { output }, environment({ process: proc, now: () => performance.now() }));
    expect(proc.listenerCount('SIGINT')).toBe(1);
    expect(proc.listenerCount('exit')).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    proc.emit('SIGINT', 'SIGINT');

    const error = await done.catch((thrown: unknown) => thrown);
    expect(PipelineAbortedError.isInstance(error)).toBe(true);
    expect((error as PipelineAbortedError).pipeline).toBe('slow');
    expect(output.text().endsWith(`\n${SHOW_CURSOR}`)).toBe(true);
    expect(stripAnsi(output.text()).trimEnd().split('\n').pop()).toBe('slow interrupted (SIGINT)');
    await expect(aborted).resolves.toBe(true);
    expect(proc.listenerCount('SIGINT')).toBe(0);
    expect(proc.listenerCount('SIGTERM')).toBe(0);
    expect(proc.listenerCount('exit')).toBe(0);
    expect(proc.raised).toEqual(['SIGINT']);
  });

  it("does not raise the signal again when the application handles it itself", async () => {
    const proc = new FakeProcess();
    const handled: string[] = [];
    proc.on('SIGINT', () => handled.push('app'));
    const events = new Subject<PipelineEvent>();
    const output = captureOutput({ isTTY: true, columns: 80 });
    const done = renderProgressWith(events, { output }, environment({ process: proc }));
    proc.emit('SIGINT', 'SIGINT');
    await expect(done).rejects.toThrow(PipelineAbortedError);
    expect(handled).toEqual(['app']);
    expect(proc.raised).toEqual([]);
    expect(proc.listenerCount('SIGINT')).toBe(1);
    expect(output.text().endsWith(SHOW_CURSOR)).toBe(true);
    expect(events.observed).toBe(false);
  });

  it('shows the cursor if the process exits while the view is live', async () => {
    const proc = new FakeProcess();
    const events = new Subject<PipelineEvent>();
    const output = captureOutput({ isTTY: true, columns: 80 });
    const done = renderProgressWith(events, { output }, environment({ process: proc }));
    events.next({ type: 'pipeline.started', pipeline: 'p', runId: 'r', levels: [['a']] });
    proc.emit('exit', 0);
    expect(output.text().endsWith(SHOW_CURSOR)).toBe(true);
    events.error(new Error('gone'));
    await expect(done).rejects.toThrow('gone');
    expect(proc.listenerCount('exit')).toBe(0);
  });

  it('removes its handlers when the run completes', async () => {
    const proc = new FakeProcess();
    const events = new Subject<PipelineEvent>();
    const done = renderProgressWith(events, { output: captureOutput({ isTTY: true }) }, environment({ process: proc }));
    events.next({ type: 'pipeline.completed', result: result() });
    events.complete();
    await done;
    expect([proc.listenerCount('SIGINT'), proc.listenerCount('SIGTERM'), proc.listenerCount('exit')]).toEqual([0, 0, 0]);
  });
});
