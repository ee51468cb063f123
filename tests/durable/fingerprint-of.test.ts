import { buildStepGraph } from '../../src/graph/build-step-graph';
import { canonicalFingerprint, describeFingerprintChange, fingerprintOf } from '../../src/durable/fingerprint-of';

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

  it('names no change for the same graph with its steps declared in another order; canonicalFingerprint makes them one string', () => {
    const reordered = fingerprintOf(buildStepGraph(['c', 'a', 'b'], { b: ['a'], c: ['a', 'b'] }), 'c');
    expect(reordered).not.toBe(base);
    expect(describeFingerprintChange(base, reordered)).toEqual([]);
    expect(canonicalFingerprint(reordered)).toBe(canonicalFingerprint(base));
  });

  it('says a stored fingerprint it cannot read is not its own, rather than throwing', () => {
    for (const stored of ['not json', '{}', '{"steps":null}', '{"steps":{"a":"b"}}', 'null']) {
      expect(describeFingerprintChange(stored, base)).toEqual(['the stored fingerprint is not one this version of fastroai wrote']);
      expect(canonicalFingerprint(stored)).toBe(stored);
    }
  });
});

