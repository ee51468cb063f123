import { DistributedFixture } from './distributed-fixture';
import { killAll } from './processes';

/** Options of {@link useDistributedFixture}. */
export interface UseDistributedFixtureOptions {
  /**
   * After a test, dispose the fixture (its workers are asked to close, and get up to 5 s)
   * before killing what is left, instead of killing every child first. @default false
   */
  closeWorkersFirst?: boolean;
}

/**
 * Gives each test of the calling file a fresh {@link DistributedFixture} (a `beforeEach`), and
 * after it kills every child process and disposes the fixture (an `afterEach`). Returns a
 * stand-in that forwards to the current test's fixture, so a test reads `fixture.ledger` and
 * calls `fixture.startWorker(...)` as on the fixture itself. Call it at the top of a test file.
 */
export function useDistributedFixture(options: UseDistributedFixtureOptions = {}): DistributedFixture {
  let current: DistributedFixture | undefined;
  beforeEach(() => {
    current = new DistributedFixture();
  });
  afterEach(async () => {
    const fixture = current!;
    current = undefined;
    if (options.closeWorkersFirst === true) {
      await fixture.dispose();
      await killAll();
    } else {
      await killAll();
      await fixture.dispose();
    }
  });
  return new Proxy({} as DistributedFixture, {
    get(_, key) {
      if (current === undefined) throw new Error('the distributed fixture is made per test: use it inside a test (or a beforeEach after useDistributedFixture)');
      const value: unknown = Reflect.get(current, key, current);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}
