import { nearestName } from '../../src/config/nearest-name';

describe('nearestName', () => {
  it.each([
    ['retires', 'retries'],
    ['timout', 'timeout'],
    ['maxConcurency', 'maxConcurrency'],
    ['retrydelay', 'retryDelay'],
    ['costbudget', 'costBudget'],
  ])('suggests the option %p was meant to be', (given, expected) => {
    expect(nearestName(given, ['timeout', 'retries', 'retryDelay', 'costBudget', 'maxConcurrency'])).toBe(expected);
  });

  it('suggests a step id one letter away', () => {
    expect(nearestName('extrct', ['classify', 'extract', 'summarize'])).toBe('extract');
  });

  it('suggests nothing when no candidate is close', () => {
    expect(nearestName('colour', ['timeout', 'retries'])).toBeUndefined();
    expect(nearestName('anything', [])).toBeUndefined();
  });

  it('suggests nothing for a one-letter name but the same letter in another case', () => {
    expect(nearestName('x', ['a', 'b'])).toBeUndefined();
    expect(nearestName('A', ['b', 'a'])).toBe('a');
  });

  it('prefers the closer candidate, and the first one on a tie', () => {
    expect(nearestName('fetchUsr', ['fetchUser', 'fetchUsers'])).toBe('fetchUser');
    expect(nearestName('cat', ['bat', 'cap'])).toBe('bat');
  });

  it('finds the nearest among 10,000 ids', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `step_${i}`);
    expect(nearestName('stp_9876', ids)).toBe('step_9876');
  });
});
