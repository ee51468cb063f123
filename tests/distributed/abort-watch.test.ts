/**
 * AbortWatch (issue 10): one listener per signal however many items watch it, every item
 * still watched hears the abort, an item unwatched does not, and the listener goes with the last item.
 */
import { AbortWatch } from '../../src/distributed/abort-watch';

/** A signal whose listeners are counted. */
function countedSignal(): { controller: AbortController; added: () => number; removed: () => number } {
  const controller = new AbortController();
  const signal = controller.signal;
  let added = 0;
  let removed = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
    added++;
    add(...args);
  }) as AbortSignal['addEventListener'];
  signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
    removed++;
    remove(...args);
  }) as AbortSignal['removeEventListener'];
  return { controller, added: () => added, removed: () => removed };
}

it('listens once per signal, and tells each item still watched when it aborts', () => {
  const aborted: Array<[number, unknown]> = [];
  const watch = new AbortWatch<number>((item, reason) => aborted.push([item, reason]));
  const counted = countedSignal();
  const unwatch = Array.from({ length: 1_000 }, (_, i) => watch.watch(counted.controller.signal, i));
  unwatch[7]();
  counted.controller.abort('stop');

  expect(counted.added()).toBe(1);
  expect(aborted).toHaveLength(999);
  expect(aborted.some(([item]) => item === 7)).toBe(false);
  expect(aborted[0]).toEqual([0, 'stop']);
});

it('removes the listener with the last item, and listens again for a new one', () => {
  const aborted: number[] = [];
  const watch = new AbortWatch<number>((item) => aborted.push(item));
  const counted = countedSignal();
  const first = watch.watch(counted.controller.signal, 1);
  const second = watch.watch(counted.controller.signal, 2);
  first();
  expect(counted.removed()).toBe(0);
  second();
  second();
  expect(counted.removed()).toBe(1);
  watch.watch(counted.controller.signal, 3);
  expect(counted.added()).toBe(2);
  counted.controller.abort();
  expect(aborted).toEqual([3]);
});

it('tells an item watched on a signal aborted already at once', () => {
  const aborted: Array<[number, unknown]> = [];
  const watch = new AbortWatch<number>((item, reason) => aborted.push([item, reason]));
  const controller = new AbortController();
  controller.abort('gone');
  watch.watch(controller.signal, 5)();
  expect(aborted).toEqual([[5, 'gone']]);
});
