import { ConversationState, ConversationStatus, Pipeline, step, type RunStore } from 'fastroai';
import { createMockAgent } from 'fastroai/testing';

/** Text that would run script if a page put it in HTML unescaped. */
export const XSS_IMG = '<img src=x onerror=alert(1)>';
export const XSS_SCRIPT = '</script><script>alert(1)</script>';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * extract → classify (a model call: tokens and cost) → fetchMarket ∥ fetchUser → calculate.
 * fetchMarket sleeps twice as long as fetchUser, so the critical path runs through it: by 25 ms
 * at the default `stepMs` (with 5 ms, a loaded CI machine once ended fetchUser after fetchMarket).
 */
export function documentPipeline(options: { store?: RunStore; stepMs?: number } = {}): Pipeline {
  const stepMs = options.stepMs ?? 25;
  const agent = createMockAgent<string>([{ output: 'invoice', inputTokens: 120, outputTokens: 8, costMicrocents: 250 }]);
  return new Pipeline({
    name: 'document',
    store: options.store,
    steps: {
      extract: step(async () => {
        await sleep(stepMs);
        return { words: ['total', 'due'], when: new Date(Date.UTC(2026, 0, 2)) };
      }),
      classify: step(async (ctx) => (await ctx.run(agent, 'Classify')).output),
      fetchMarket: step(async () => {
        await sleep(stepMs * 2);
        return { rate: 1.1 };
      }),
      fetchUser: step(async () => {
        await sleep(stepMs);
        return { name: 'Ada', tags: new Set(['vip']) };
      }),
      calculate: step(async (ctx) => ({ total: 42 * ctx.getDependency<{ rate: number }>('fetchMarket').rate })),
    },
    dependencies: { classify: ['extract'], fetchMarket: ['classify'], fetchUser: ['classify'], calculate: ['fetchMarket', 'fetchUser'] },
  });
}

/** Where the user's answer to the booking conversation arrives (between turns). */
export interface Mailbox {
  answer?: string;
}

/**
 * A conversation: `askDates` returns INCOMPLETE (the run stops) until the mailbox holds an
 * answer; then `book` runs.
 */
export function bookingPipeline(mailbox: Mailbox, store?: RunStore): Pipeline {
  return new Pipeline({
    name: 'booking',
    store,
    steps: {
      greet: step(() => 'hello'),
      askDates: step(() =>
        mailbox.answer === undefined
          ? new ConversationState({ status: ConversationStatus.INCOMPLETE, data: { missing: ['dates'] }, context: { question: 'Which dates?' } })
          : new ConversationState({ status: ConversationStatus.COMPLETE, data: { dates: mailbox.answer } }),
      ),
      book: step((ctx) => ({ booked: ctx.getDependency<ConversationState<{ dates: string }>>('askDates').data?.dates })),
    },
    dependencies: { askDates: ['greet'], book: ['askDates'] },
  });
}

/** A pipeline whose name, a step id and outputs are XSS payloads. */
export function hostilePipeline(store?: RunStore): Pipeline {
  return new Pipeline({
    name: XSS_SCRIPT,
    store,
    steps: {
      [XSS_IMG]: step(() => ({ html: XSS_IMG, [XSS_SCRIPT]: XSS_SCRIPT })),
      summary: step(() => `${XSS_SCRIPT}${XSS_IMG}`),
    },
    dependencies: { summary: [XSS_IMG] },
  });
}

/** A chain of `size` steps (`s000 → s001 → …`), each returning `{ index }`. */
export function chainPipeline(size: number, store?: RunStore): Pipeline {
  const ids = Array.from({ length: size }, (_, index) => `s${String(index).padStart(3, '0')}`);
  return new Pipeline({
    name: 'chain',
    store,
    steps: Object.fromEntries(ids.map((id, index) => [id, step(() => ({ index }))])),
    dependencies: Object.fromEntries(ids.slice(1).map((id, index) => [id, [ids[index]]])),
  });
}
