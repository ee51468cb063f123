import { buildStepGraph } from '../../src/graph/build-step-graph';
import { describeFingerprintChange, fingerprintOf } from '../../src/durable/fingerprint-of';

describe('fingerprintOf', () => {
  const base = fingerprintOf(buildStepGraph(['a', 'b', 'c'], { b: ['a'], c: ['a', 'b'] }), 'c');

  it('is the same for the same graph, whatever the order dependencies were listed in', () => {
    expect(fingerprintOf(buildStepGraph(['a', 'b', 'c'], { b: ['a'], c: ['b', 'a'] }), 'c')).toBe(base);
    expect(describeFingerprintChange(base, base)).toEqual([]);
  });

  it('names added, removed and re-wired steps, and a new output step', () => {
    const changed = fingerprintOf(buildStepGraph(['a', 'b', 'd'], { b: [], d: ['b'] }), 'd');
    expect(describeFingerprintChange(base, changed)).toEqual([
      "added 'd'",
      "removed 'c'",
      "re-wired 'b' (depended on [a], now on [])",
      "output step 'c' became 'd'",
    ]);
  });
});
