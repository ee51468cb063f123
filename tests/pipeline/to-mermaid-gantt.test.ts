import { Pipeline, PipelineConfig, step, toMermaidGantt, type PipelineResult, type StepContext } from 'fastroai';
import { deferred, sleep } from '../support/async-helpers';

/** A result as a user might build or load it: plain data, no run graph attached. */
function handMadeResult(timings: PipelineResult<unknown>['timings'], errors: Record<string, Error> = {}): PipelineResult<unknown> {
  return {
    runId: 'r1',
    output: undefined,
    stepOutputs: {},
    conversationState: undefined,
    usage: undefined,
    stoppedEarly: false,
    errors,
    skipped: [],
    timings,
  };
}

/** The task lines (`  name ... :tags, id, start, end`) of a chart. */
function taskLines(chart: string): string[] {
  return chart.split('\n').filter((line) => /:.*, \d+, \d+$/.test(line));
}

function criticalTasks(chart: string): string[] {
  return taskLines(chart)
    .filter((line) => line.includes(':crit, '))
    .map((line) => line.trim().split(' ')[0]);
}

describe('toMermaidGantt', () => {
  it('draws a hand-made result, finding the critical path from the timings alone', () => {
    const chart = toMermaidGantt(
      handMadeResult({
        extract: { startMs: 0, endMs: 120.4, attempts: 1 },
        fetchMarket: { startMs: 120.4, endMs: 250, attempts: 1 },
        fetchUser: { startMs: 120.4, endMs: 380.2, attempts: 2 },
        calculate: { startMs: 380.2, endMs: 412.9, attempts: 1 },
      }),
    );
    expect(chart).toBe(
      [
        'gantt',
        '  title pipeline run (412.9 ms)',
        '  dateFormat x',
        '  axisFormat %L ms',
        '  todayMarker off',
        '  %% critical path: extract -> fetchUser -> calculate',
        '  section steps',
        '  extract 120.4 ms :crit, t0, 0, 120',
        '  fetchMarket 129.6 ms :t1, 120, 250',
        '  fetchUser 259.8 ms, 2 attempts :crit, t2, 120, 380',
        '  calculate 32.7 ms :crit, t3, 380, 413',
      ].join('\n'),
    );
  });

  it("follows the run's dependency edges, grouping steps by level", async () => {
    const marketDone = deferred();
    const pipeline = new Pipeline({
      name: 'document_processor',
      steps: {
        extract: step(() => 'text'),
        fetchMarket: step(() => marketDone.resolve()),
        // fetchUser finishes after fetchMarket: it is what calculate waited for.
        fetchUser: step(async () => {
          await marketDone.promise;
          await sleep(5);
          return 'user';
        }),
        calculate: step((ctx: StepContext) => ctx.getDependency('fetchUser')),
      },
      dependencies: { fetchMarket: ['extract'], fetchUser: ['extract'], calculate: ['fetchMarket', 'fetchUser'] },
    });
    const result = await pipeline.execute({});
    const chart = toMermaidGantt(result);
    expect(chart.split('\n').slice(0, 2)).toEqual(['gantt', expect.stringMatching(/^ {2}title document_processor \(\d+\.\d ms\)$/)]);
    expect(chart).toContain('  %% critical path: extract -> fetchUser -> calculate');
    expect(criticalTasks(chart)).toEqual(['extract', 'fetchUser', 'calculate']);
    expect(chart.split('\n').filter((line) => line.startsWith('  section'))).toEqual([
      '  section level 0',
      '  section level 1',
      '  section level 2',
    ]);
    expect(taskLines(chart)).toHaveLength(4);
  });

  it('walks dependencies, not whichever step ended just before (maxConcurrency delays)', async () => {
    // With one slot: a runs, then b, then c. c depends only on a; b merely held the slot.
    const pipeline = new Pipeline({
      name: 'one_slot',
      steps: { a: step(() => sleep(2)), b: step(() => sleep(2)), c: step(() => sleep(2)) },
      dependencies: { c: ['a'] },
      outputStep: 'c',
      config: new PipelineConfig({ maxConcurrency: 1 }),
    });
    const result = await pipeline.execute({});
    expect(result.timings.c.startMs).toBeGreaterThanOrEqual(result.timings.b.endMs);
    expect(criticalTasks(toMermaidGantt(result))).toEqual(['a', 'c']);
    // Without the graph (a result read back from JSON), the fallback walks by time and lands on b.
    const fromJson = JSON.parse(JSON.stringify(result)) as PipelineResult<unknown>;
    expect(criticalTasks(toMermaidGantt(fromJson))).toEqual(['a', 'b', 'c']);
  });

  it('keeps the run graph out of the result data', async () => {
    const result = await new Pipeline({ name: 'hidden', steps: { only: step(() => 1) } }).execute({});
    expect(Object.keys(result).sort()).toEqual(
      ['conversationState', 'errors', 'output', 'runId', 'skipped', 'stepOutputs', 'stoppedEarly', 'timings', 'usage'].sort(),
    );
    expect(Object.getOwnPropertySymbols(result).every((key) => !Object.getOwnPropertyDescriptor(result, key)!.enumerable)).toBe(true);
    expect(JSON.stringify(result)).not.toContain('graph');
    expect({ ...result }).toEqual({ ...handMadeResult(result.timings), runId: result.runId, output: 1, stepOutputs: { only: 1 } });
  });

  it('labels failed steps, leaves skipped ones out (onError: continue)', async () => {
    const pipeline = new Pipeline({
      name: 'partial',
      steps: {
        ok: step(() => 1),
        broken: step(() => {
          throw new Error('boom');
        }),
        after: step(() => 2),
      },
      dependencies: { after: ['broken'] },
      outputStep: 'ok',
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const result = await pipeline.execute({});
    const lines = taskLines(toMermaidGantt(result));
    expect(lines.map((line) => line.trim().split(' ')[0]).sort()).toEqual(['broken', 'ok']);
    expect(lines.find((line) => line.trim().startsWith('broken'))).toMatch(/^ {2}broken \d+\.\d ms, failed :/);
  });

  it('writes characters Mermaid reads as syntax as entity codes', () => {
    const chart = toMermaidGantt(handMadeResult({ 'fetch:user;#1': { startMs: 0, endMs: 3, attempts: 1 } }));
    expect(taskLines(chart)).toEqual(['  fetch#58;user#59;#35;1 3.0 ms :crit, t0, 0, 3']);
  });

  it('keeps a step id with a newline, %%, quotes or brackets on its own task line, shown as it is', () => {
    const ids = ['two\nlines', '%% not a comment', 'say "hi"', 'a[1] <b> & `c`'];
    const timings: PipelineResult<unknown>['timings'] = {};
    ids.forEach((id, index) => (timings[id] = { startMs: index, endMs: index + 1, attempts: 1 }));
    const chart = toMermaidGantt(handMadeResult(timings));
    const lines = chart.split('\n');
    expect(lines).toHaveLength(6 + 1 + ids.length);
    const tasks = taskLines(chart);
    expect(tasks).toHaveLength(ids.length);
    // Text is plain characters or entity codes: no `:` or `;` of its own, no `%` or `#` to start it.
    const entity = '#(?:quot|\\d+);';
    const task = new RegExp(`^ {2}(?:[^\\s%:;#]|${entity})(?:[^:;#]|${entity})* :(crit, )?t\\d+, \\d+, \\d+$`);
    for (const line of tasks) expect(line).toMatch(task);
    const decode = (text: string) => text.replace(/#(quot|\d+);/g, (_, code: string) => (code === 'quot' ? '"' : String.fromCharCode(Number(code))));
    expect(tasks.map((line) => decode(line.trim().replace(/ \d+\.\d ms :.*$/, '')))).toEqual(ids);
  });

  it.each([
    ['an empty object', {}, /^toMermaidGantt expects a PipelineResult \(what execute\(\) resolves with, or pipeline\.completed carries\): its timings must be a record .*got undefined$/],
    ['undefined', undefined, /^toMermaidGantt expects a PipelineResult .*, got undefined$/],
    ['a promise of a result', Promise.resolve(), /its timings must be a record/],
    ['a timing without numbers', { timings: { a: { startMs: '0' } }, errors: {} }, /timings\['a'\] must have startMs and endMs in ms/],
    ['errors that are not a record', { timings: {}, errors: 'none' }, /its errors must be a record of errors by step id, got 'none'$/],
  ])('refuses %s with a TypeError naming what it expects', (_label, value, message) => {
    let error: unknown;
    try {
      toMermaidGantt(value as never);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(message);
  });

  it('draws a step shorter than a millisecond 1 ms wide, and picks a seconds axis for longer runs', () => {
    const chart = toMermaidGantt(
      handMadeResult({ quick: { startMs: 0, endMs: 0.2, attempts: 1 }, slow: { startMs: 0.2, endMs: 2500, attempts: 1 } }),
    );
    expect(taskLines(chart)).toEqual(['  quick 0.2 ms :crit, t0, 0, 1', '  slow 2.50 s :crit, t1, 0, 2500']);
    expect(chart).toContain('  axisFormat %S.%L s');
  });

  it('names the worker of each step that ran on one (distributed runs; ":" written as an entity code)', () => {
    const chart = toMermaidGantt(
      handMadeResult({
        extract: { startMs: 0, endMs: 10, attempts: 1, workerId: 'host-a:41' },
        classify: { startMs: 10, endMs: 30, attempts: 1, workerId: 'host-b:7' },
      }),
    );
    expect(taskLines(chart)).toEqual(['  extract 10.0 ms, on host-a#58;41 :crit, t0, 0, 10', '  classify 20.0 ms, on host-b#58;7 :crit, t1, 10, 30']);
  });

  it('draws an empty chart for a run with no timings', () => {
    expect(toMermaidGantt(handMadeResult({}))).toBe(
      ['gantt', '  title pipeline run (0.0 ms)', '  dateFormat x', '  axisFormat %L ms', '  todayMarker off'].join('\n'),
    );
  });
});
