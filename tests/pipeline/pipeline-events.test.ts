import {
  ConversationState,
  ConversationStatus,
  Pipeline,
  PipelineAbortedError,
  PipelineConfig,
  StepExecutionError,
  StepUsage,
  step,
  type PipelineEvent,
  type PipelineEventType,
} from 'fastroai';
import { createMockAgent } from 'fastroai/testing';
import { lastValueFrom, take, toArray } from 'rxjs';
import { deferred, flush, rejectionOf, sleep, within } from '../support/async-helpers';

function collect(pipeline: Pipeline<any, any, any>, input: unknown = {}): Promise<PipelineEvent[]> {
  return lastValueFrom(pipeline.run(input).pipe(toArray()));
}

/** Events as short strings, for order checks: `step.started:a`, `level.completed:0`. */
function brief(events: PipelineEvent[]): string[] {
  return events.map((event) => {
    switch (event.type) {
      case 'step.started':
      case 'step.completed':
      case 'step.failed':
      case 'step.skipped':
      case 'step.retrying':
        return `${event.type}:${event.stepId}`;
      case 'level.completed':
        return `${event.type}:${event.level}`;
      default:
        return event.type;
    }
  });
}

function ofType<T extends PipelineEventType>(events: PipelineEvent[], type: T): Array<Extract<PipelineEvent, { type: T }>> {
  return events.filter((event): event is Extract<PipelineEvent, { type: T }> => event.type === type);
}

describe('Pipeline.run', () => {
  it('emits started, each step, each level and completed, in order', async () => {
    const pipeline = new Pipeline({ name: 'chain', steps: { a: step(() => 1), b: step(() => 2) }, dependencies: { b: ['a'] } });
    const events = await collect(pipeline);
    expect(brief(events)).toEqual([
      'pipeline.started',
      'step.started:a',
      'step.completed:a',
      'level.completed:0',
      'step.started:b',
      'step.completed:b',
      'level.completed:1',
      'pipeline.completed',
    ]);
  });

  it('describes the run in pipeline.started, with the same runId as the result', async () => {
    const pipeline = new Pipeline({ name: 'doc', steps: { a: step(() => 1), b: step(() => 2) }, dependencies: { b: ['a'] } });
    const events = await collect(pipeline);
    const started = events[0];
    expect(started).toMatchObject({ type: 'pipeline.started', pipeline: 'doc', levels: [['a'], ['b']] });
    const completed = events[events.length - 1];
    expect(completed.type).toBe('pipeline.completed');
    if (started.type === 'pipeline.started' && completed.type === 'pipeline.completed') {
      expect(typeof started.runId).toBe('string');
      expect(completed.result.runId).toBe(started.runId);
    }
  });

  it('reports the levels of the definition, whatever a caller did to pipeline.levels', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 1) } });
    pipeline.levels[0].push('mutated');
    const started = (await collect(pipeline))[0];
    expect(started).toMatchObject({ levels: [['a']] });
  });

  it('ends with pipeline.completed carrying the result', async () => {
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => 'out') } });
    const events = await collect(pipeline);
    const last = events[events.length - 1];
    expect(last.type).toBe('pipeline.completed');
    expect(last.type === 'pipeline.completed' && last.result.output).toBe('out');
    expect(ofType(events, 'pipeline.completed')).toHaveLength(1);
  });

  it('gives step events their level, attempt, output, usage and duration', async () => {
    const agent = createMockAgent([{ output: 'x', costMicrocents: 77, inputTokens: 3 }]);
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step(async () => {
          await sleep(2);
          return 'A';
        }),
        b: step(async (ctx) => (await ctx.run(agent, 'hi')).output),
      },
      dependencies: { b: ['a'] },
    });
    const events = await collect(pipeline);
    expect(ofType(events, 'step.started')).toEqual([
      { type: 'step.started', stepId: 'a', level: 0, attempt: 1 },
      { type: 'step.started', stepId: 'b', level: 1, attempt: 1 },
    ]);
    const [a, b] = ofType(events, 'step.completed');
    expect(a).toMatchObject({ stepId: 'a', level: 0, output: 'A' });
    expect(a.usage).toBeInstanceOf(StepUsage);
    expect(a.usage.costMicrocents).toBe(0);
    expect(a.durationMs).toBeGreaterThan(0);
    expect(b).toMatchObject({ stepId: 'b', level: 1, output: 'x' });
    expect(b.usage).toMatchObject({ costMicrocents: 77, inputTokens: 3, requestCount: 1 });
  });

  it('emits level.completed in increasing order, once every step of levels 0..k finished', async () => {
    const deepDone = deferred();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        slow: step(async () => {
          await within(deepDone.promise, 2_000, undefined);
        }),
        fast: step(() => 'fast'),
        deep: step(() => {
          deepDone.resolve();
        }),
        end: step(() => 'end'),
      },
      dependencies: { deep: ['fast'], end: ['slow', 'deep'] },
    });
    const events = await collect(pipeline);
    const order = brief(events);
    // `deep` (level 1) finished before `slow` (level 0): both levels are reported after `slow`.
    expect(order.indexOf('step.completed:deep')).toBeLessThan(order.indexOf('step.completed:slow'));
    expect(order.filter((entry) => entry.startsWith('level.completed'))).toEqual([
      'level.completed:0',
      'level.completed:1',
      'level.completed:2',
    ]);
    expect(order.indexOf('level.completed:0')).toBeGreaterThan(order.indexOf('step.completed:slow'));
    expect(order.indexOf('level.completed:1')).toBeGreaterThan(order.indexOf('level.completed:0'));
    const levelEvents = ofType(events, 'level.completed');
    expect(levelEvents.map((event) => event.stepIds)).toEqual([['slow', 'fast'], ['deep'], ['end']]);
  });

  it('emits step.retrying with the failed attempt, its error and the delay, then the next step.started', async () => {
    let calls = 0;
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        a: step({ retries: 2, retryDelay: 0.001 }, () => {
          calls++;
          if (calls === 1) throw 'a string';
          if (calls === 2) throw new Error('second');
          return 'ok';
        }),
      },
    });
    const events = await collect(pipeline);
    expect(brief(events)).toEqual([
      'pipeline.started',
      'step.started:a',
      'step.retrying:a',
      'step.started:a',
      'step.retrying:a',
      'step.started:a',
      'step.completed:a',
      'level.completed:0',
      'pipeline.completed',
    ]);
    const retrying = ofType(events, 'step.retrying');
    expect(retrying.map((event) => [event.attempt, event.delaySeconds, event.error.message])).toEqual([
      [1, 0.001, 'a string'],
      [2, 0.002, 'second'],
    ]);
    expect(retrying[0].error).toBeInstanceOf(Error);
    expect(ofType(events, 'step.started').map((event) => event.attempt)).toEqual([1, 2, 3]);
  });

  it("emits step.failed and step.skipped under onError 'continue'", async () => {
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        bad: step(() => {
          throw new Error('broken');
        }),
        child: step(() => 'never'),
        grandchild: step(() => 'never'),
        other: step(() => 'ok'),
      },
      dependencies: { child: ['bad'], grandchild: ['child'] },
      outputStep: 'grandchild',
      config: new PipelineConfig({ onError: 'continue' }),
    });
    const events = await collect(pipeline);
    const [failed] = ofType(events, 'step.failed');
    expect(failed).toMatchObject({ stepId: 'bad', level: 0 });
    expect(failed.error).toBeInstanceOf(StepExecutionError);
    expect(failed.error.message).toBe("Step 'bad' failed: broken");
    const skipped = ofType(events, 'step.skipped');
    expect(skipped.map((event) => event.stepId)).toEqual(['child', 'grandchild']);
    for (const event of skipped) expect(event.reason).toContain('bad');
    expect(brief(events).indexOf('step.failed:bad')).toBeLessThan(brief(events).indexOf('step.skipped:child'));
    const last = events[events.length - 1];
    expect(last.type === 'pipeline.completed' && last.result.skipped).toEqual(['child', 'grandchild']);
    expect(ofType(events, 'level.completed').map((event) => event.level)).toEqual([0, 1, 2]);
  });

  it('emits pipeline.stopped after the INCOMPLETE step completed, and still ends with pipeline.completed', async () => {
    const state = new ConversationState({ status: ConversationStatus.INCOMPLETE, context: { missing: ['email'] } });
    const pipeline = new Pipeline({
      name: 'p',
      steps: { gather: step(() => state), next: step(() => 'never') },
      dependencies: { next: ['gather'] },
    });
    const events = await collect(pipeline);
    const order = brief(events);
    expect(order.indexOf('pipeline.stopped')).toBe(order.indexOf('step.completed:gather') + 1);
    expect(order).not.toContain('step.started:next');
    expect(order[order.length - 1]).toBe('pipeline.completed');
    const [stopped] = ofType(events, 'pipeline.stopped');
    expect(stopped.conversationState).toBe(state);
    const [completed] = ofType(events, 'pipeline.completed');
    expect(completed.result.stoppedEarly).toBe(true);
  });

  it("errors the observable with the StepExecutionError execute rejects with (onError 'fail')", async () => {
    const original = new Error('boom');
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(() => { throw original; }) } });
    const seen: PipelineEvent[] = [];
    const streamError = await new Promise<unknown>((resolve) => {
      pipeline.run({}).subscribe({ next: (event) => seen.push(event), error: resolve, complete: () => resolve('completed') });
    });
    const executeError = await rejectionOf(pipeline.execute({}));
    expect(streamError).toBeInstanceOf(StepExecutionError);
    expect(streamError).toMatchObject({ stepId: 'a', message: "Step 'a' failed: boom" });
    expect((streamError as StepExecutionError).originalError).toBe(original);
    expect((executeError as StepExecutionError).originalError).toBe(original);
    expect((streamError as Error).message).toBe((executeError as Error).message);
    expect(seen.some((event) => event.type === 'pipeline.completed')).toBe(false);
    const last = seen[seen.length - 1];
    expect(last).toMatchObject({ type: 'step.failed', stepId: 'a', level: 0 });
    expect((last as Extract<PipelineEvent, { type: 'step.failed' }>).error).toBe(streamError);
  });

  it('is cold: nothing runs until subscribed, and each subscription is a run of its own', async () => {
    const ran = jest.fn(() => 'x');
    const pipeline = new Pipeline({ name: 'p', steps: { a: step(ran) } });
    const stream = pipeline.run({});
    await flush();
    expect(ran).not.toHaveBeenCalled();
    const first = await lastValueFrom(stream.pipe(toArray()));
    const second = await lastValueFrom(stream.pipe(toArray()));
    expect(ran).toHaveBeenCalledTimes(2);
    expect(first[0].type === 'pipeline.started' && second[0].type === 'pipeline.started').toBe(true);
    expect((first[0] as { runId: string }).runId).not.toBe((second[0] as { runId: string }).runId);
  });

  it("cancels the run when unsubscribed: running steps' signals abort and nothing new starts", async () => {
    const started = deferred<AbortSignal>();
    const stepEnded = deferred<unknown>();
    const next = jest.fn();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        long: step(async (ctx) => {
          started.resolve(ctx.signal);
          try {
            await sleep(10_000, ctx.signal);
          } catch (error) {
            stepEnded.resolve(error);
            throw error;
          }
        }),
        next: step(next),
      },
      dependencies: { next: ['long'] },
    });
    const events: PipelineEvent[] = [];
    const subscription = pipeline.run({}).subscribe({ next: (event) => events.push(event) });
    const signal = await started.promise;
    subscription.unsubscribe();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(PipelineAbortedError);
    expect(await within(stepEnded.promise, 2_000, 'still running')).toBeInstanceOf(PipelineAbortedError);
    await sleep(5);
    expect(next).not.toHaveBeenCalled();
    expect(events.map((event) => event.type)).toEqual(['pipeline.started', 'step.started']);
  });

  it('cancels the run when a subscriber takes only the first event: no step starts', async () => {
    const long = jest.fn();
    const next = jest.fn();
    const pipeline = new Pipeline({
      name: 'p',
      steps: { long: step(long), next: step(next) },
      dependencies: { next: ['long'] },
    });
    const first = await lastValueFrom(pipeline.run({}).pipe(take(1)));
    expect(first.type).toBe('pipeline.started');
    await sleep(5);
    expect(long).not.toHaveBeenCalled();
    expect(next).not.toHaveBeenCalled();
  });

  it('cancels a running step when a subscriber stops at its step.started', async () => {
    const stepEnded = deferred<unknown>();
    const next = jest.fn();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        long: step(async (ctx) => {
          await sleep(10_000, ctx.signal).catch((error: unknown) => {
            stepEnded.resolve(error);
            throw error;
          });
        }),
        next: step(next),
      },
      dependencies: { next: ['long'] },
    });
    const events = pipeline.run({});
    const subscription = events.subscribe();
    await sleep(5);
    subscription.unsubscribe();
    expect(await within(stepEnded.promise, 2_000, 'still running')).toBeInstanceOf(PipelineAbortedError);
    await sleep(5);
    expect(next).not.toHaveBeenCalled();
  });

  it('passes a signal from options through to the run', async () => {
    const controller = new AbortController();
    const started = deferred();
    const pipeline = new Pipeline({
      name: 'p',
      steps: {
        long: step(async (ctx) => {
          started.resolve();
          await sleep(10_000, ctx.signal);
        }),
      },
    });
    const errored = new Promise<unknown>((resolve) => {
      pipeline.run({}, undefined, { signal: controller.signal }).subscribe({ error: resolve, complete: () => resolve('completed') });
    });
    await started.promise;
    controller.abort();
    expect(await errored).toBeInstanceOf(PipelineAbortedError);
  });
});
