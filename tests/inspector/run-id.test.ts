import { randomUUID } from 'node:crypto';
import { isRunId } from '../../src/inspector/run-id';

describe('isRunId', () => {
  it('accepts any id a run can be recorded under: UUIDs, spaces, slashes, markup, other scripts', () => {
    for (const id of [randomUUID(), 'doc-1', 'a.b:c_d', 'my run #1', 'tenant/42', 'a\\b', '<img src=x>', 'a%2e', 'réservation-7', '.a', 'x'.repeat(1_024)]) {
      expect([id, isRunId(id)]).toEqual([id, true]);
    }
  });

  it('refuses empty, dot-only (a browser resolves them away), too long, NUL and a lone half of a surrogate pair (no URL holds it)', () => {
    for (const id of ['', '.', '..', '...', 'x'.repeat(1_025), 'a\u0000', 'emoji cut \uD83D', '\uDE00 tail']) expect([id, isRunId(id)]).toEqual([id, false]);
    expect(isRunId('whole \uD83D\uDE00')).toBe(true);
  });
});
