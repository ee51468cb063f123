import { Pipeline, step } from 'fastroai';
import { fingerprintOf } from '../../src/durable/fingerprint-of';
import { definitionOf } from '../../src/pipeline/definition-of';
import { fingerprintDigest } from '../../src/distributed/fingerprint-digest';

function fanOutFingerprint(steps: number, wiredLast = false): string {
  const ids = Array.from({ length: steps }, (_, i) => `s${i}`);
  const pipeline = new Pipeline({
    name: 'digest-test',
    steps: Object.fromEntries(ids.map((id) => [id, step(() => id)])),
    dependencies: wiredLast ? { [ids[steps - 1]]: [ids[0]] } : {},
    outputStep: ids[steps - 1],
  });
  const definition = definitionOf(pipeline);
  return fingerprintOf(definition.graph, definition.outputStep);
}

describe('fingerprintDigest', () => {
  it('is a short, fixed-size digest of a fingerprint, however large the graph (what every job carries)', () => {
    const fingerprint = fanOutFingerprint(10_000);
    expect(fingerprint.length).toBeGreaterThan(100_000);
    expect(fingerprintDigest(fingerprint)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for the same graph built twice, and differs for another wiring', () => {
    expect(fingerprintDigest(fanOutFingerprint(50))).toBe(fingerprintDigest(fanOutFingerprint(50)));
    expect(fingerprintDigest(fanOutFingerprint(50, true))).not.toBe(fingerprintDigest(fanOutFingerprint(50)));
    expect(fingerprintDigest(fanOutFingerprint(51))).not.toBe(fingerprintDigest(fanOutFingerprint(50)));
  });

  it('is the same for the same graph with its steps declared in another order (a caller and its workers agree)', () => {
    const definitionOfSteps = (ids: string[]) => {
      const definition = definitionOf(new Pipeline({ name: 'order', steps: Object.fromEntries(ids.map((id) => [id, step(() => id)])), dependencies: { c: ['a', 'b'] }, outputStep: 'c' }));
      return fingerprintOf(definition.graph, definition.outputStep);
    };
    const declared = definitionOfSteps(['a', 'b', 'c']);
    const reordered = definitionOfSteps(['c', 'b', 'a']);
    expect(reordered).not.toBe(declared); // a fingerprint keeps declaration order (the inspector draws in it)
    expect(fingerprintDigest(reordered)).toBe(fingerprintDigest(declared));
  });
});

