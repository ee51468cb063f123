/** The check both record batchers (the engine's and a worker's) make of a store's `recordSteps` answer. */
import { recordOutcomesMismatch } from '../../src/store/record-outcomes-mismatch';

it('accepts one outcome per record, and names what a misbehaving store answered otherwise', () => {
  expect(recordOutcomesMismatch(['recorded', 'duplicate'], 2)).toBeUndefined();
  expect(recordOutcomesMismatch(['recorded'], 2)?.message).toBe('recordSteps answered 1 outcomes for 2 records');
  expect(recordOutcomesMismatch(undefined, 1)).toBeInstanceOf(TypeError);
  expect(recordOutcomesMismatch(undefined, 1)?.message).toBe('recordSteps answered undefined outcomes for 1 records');
});
