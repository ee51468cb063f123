import type { MemoryRunStore, RunStore } from 'fastroai';

/**
 * `store` until `freeze()`: then every call hangs (the caller process is gone), until `bury()`
 * ends them (its connections went with it).
 */
export function freezable(store: MemoryRunStore): { store: RunStore; freeze(): void; bury(): void } {
  let frozen = false;
  let bury: (error: Error) => void = () => undefined;
  const hang = new Promise<never>((_, reject) => (bury = reject));
  hang.catch(() => undefined);
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (frozen ? hang : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  }) as RunStore;
  return { store: proxy, freeze: () => void (frozen = true), bury: () => bury(new Error('the dead caller is gone')) };
}
