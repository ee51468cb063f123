/** Where an object keeps what its lazy properties are computed from: a symbol-keyed, non-enumerable property. */
const LAZY_SOURCE: unique symbol = Symbol('fastroai.lazySource');

/** An object that holds a lazy property's source. */
type Sourced<S> = { [LAZY_SOURCE]: S };

/**
 * An own, enumerable property that many objects get, computed on first read from the object's
 * source ({@link setLazySource}) and then stored as a plain data property. Spreading,
 * `JSON.stringify` and `Object.keys` see it as a normal property; assigning to it replaces it.
 *
 * Why lazy: a run's `stepOutputs` and `timings` are records keyed by step id, and inserting
 * 10,000 string keys into an object costs ~0.3 µs each on Node 20 — more than scheduling the
 * step. A caller that never reads them should not pay for them.
 *
 * Why one getter and setter for every object, not a closure per object: V8 gives each object
 * whose accessor functions differ a hidden class (map) of its own. Maps live in the old
 * generation, so until the next full GC each one keeps its closure, and through it the run's
 * step table, alive across scavenges: every run's table was promoted (a 10,000-step chain paid
 * about as much in GC as in scheduling). Shared accessors make every object take the same map.
 */
export class LazyProperty<S, V> {
  private readonly descriptor: PropertyDescriptor;

  /**
   * @param key the property's name
   * @param compute its value, from the object's source (called once per object, on first read)
   */
  constructor(
    readonly key: string,
    compute: (source: S) => V,
  ) {
    const define = (target: object, value: V): V => {
      Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
      return value;
    };
    this.descriptor = {
      enumerable: true,
      configurable: true,
      get(this: Sourced<S>): V {
        return define(this, compute(this[LAZY_SOURCE]));
      },
      set(this: object, value: V): void {
        define(this, value);
      },
    };
  }

  /** Defines the property on `target`, computed from the source given to {@link setLazySource}. */
  defineOn(target: object): void {
    Object.defineProperty(target, this.key, this.descriptor);
  }
}

/** Gives `target` the source its {@link LazyProperty} values are computed from (non-enumerable). */
export function setLazySource(target: object, source: unknown): void {
  Object.defineProperty(target, LAZY_SOURCE, { value: source, enumerable: false, configurable: true, writable: false });
}
